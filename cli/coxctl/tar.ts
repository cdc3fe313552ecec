/**
 * Just enough of the tar format for `coxctl cp` (pure, on buffers): writes ustar entries with
 * GNU long-name records for names over 100 bytes (busybox and GNU tar read both), and reads
 * ustar, GNU (`L`/`K` long names) and pax (`x` path/linkpath) archives as tar programs write them.
 */

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  /** Permission bits. */
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  data?: Buffer;
  linkname?: string;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, typeflag: string, size: number, mode: number, mtime: number, linkname = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.max(0, Math.floor(mtime)), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(typeflag, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar  \0', 257, 'ascii'); // GNU magic + version, as GNU tar writes with long names
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest === 0 ? [data] : [data, Buffer.alloc(BLOCK - rest)];
}

/** An archive of `entries`, in order, ending with the two zero blocks. */
export function packTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const name = e.type === 'dir' && !e.name.endsWith('/') ? `${e.name}/` : e.name;
    const linkname = e.linkname ?? '';
    if (Buffer.byteLength(linkname) > 100) {
      const body = Buffer.from(linkname + '\0');
      parts.push(header('././@LongLink', 'K', body.length, 0, 0), ...padded(body));
    }
    if (Buffer.byteLength(name) > 100) {
      const body = Buffer.from(name + '\0');
      parts.push(header('././@LongLink', 'L', body.length, 0, 0), ...padded(body));
    }
    const data = e.type === 'file' ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    const flag = e.type === 'file' ? '0' : e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0';
    parts.push(header(name, flag, data.length, e.mode, e.mtime, linkname));
    if (data.length) parts.push(...padded(data));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function str(b: Buffer, start: number, len: number): string {
  const s = b.subarray(start, start + len);
  const nul = s.indexOf(0);
  return (nul < 0 ? s : s.subarray(0, nul)).toString('utf8');
}

function num(b: Buffer, start: number, len: number): number {
  if (b[start] & 0x80) {
    // GNU base-256 for large values
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i];
    return v;
  }
  const s = str(b, start, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function paxRecords(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(body.subarray(i, sp).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0) break;
    const rec = body.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

export class TarFormatError extends Error {}

/** The entries of an archive; throws TarFormatError on a bad checksum or a truncated entry. */
export function parseTar(archive: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  while (off + BLOCK <= archive.length) {
    const h = archive.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    if (sum !== num(h, 148, 8)) throw new TarFormatError('tar contents corrupted');
    const size = num(h, 124, 12);
    const flag = String.fromCharCode(h[156] || 0x30);
    const dataStart = off + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > archive.length) throw new TarFormatError('unexpected EOF');
    const data = archive.subarray(dataStart, dataEnd);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'L') {
      longName = str(data, 0, data.length);
      continue;
    }
    if (flag === 'K') {
      longLink = str(data, 0, data.length);
      continue;
    }
    if (flag === 'x') {
      pax = { ...pax, ...paxRecords(data) };
      continue;
    }
    if (flag === 'g') continue;
    const magic = str(h, 257, 6);
    const prefix = magic === 'ustar' ? str(h, 345, 155) : '';
    let name = pax.path ?? longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
    const linkname = pax.linkpath ?? longLink ?? str(h, 157, 100);
    longName = longLink = undefined;
    pax = {};
    const type: TarEntryType = flag === '0' || flag === '7' ? 'file' : flag === '5' ? 'dir' : flag === '2' ? 'symlink' : 'other';
    if (type === 'dir' && name.endsWith('/')) name = name.slice(0, -1);
    out.push({ name, type, mode: num(h, 100, 8), mtime: num(h, 136, 12), data: type === 'file' ? Buffer.from(data) : undefined, linkname: linkname || undefined });
  }
  return out;
}
