import { lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../../lib/client';
import { PODS, resourcePath } from '../../lib/resources';
import type { Ctx } from './context';
import { CliError, formatApiError } from './errors';
import { defaultContainer } from './pod-select';
import { execInPod, type ExecResult } from './remotecommand';
import { packTar, parseTar, TarFormatError, type TarEntry } from './tar';

export interface CpFlags {
  container?: string;
  noPreserve?: boolean;
}

export interface FileSpec {
  pod?: string;
  namespace?: string;
  file: string;
}

function stripTrailingSlash(f: string): string {
  return f.length > 1 && f.endsWith('/') ? f.slice(0, -1) : f;
}

/** `[[namespace/]pod:]path`, as kubectl's extractFileSpec (pure). */
export function parseFileSpec(arg: string): FileSpec {
  const i = arg.indexOf(':');
  if (i === 0) throw new CliError('filespec must match the canonical format: [[namespace/]pod:]file/path');
  if (i < 0) return { file: stripTrailingSlash(arg) };
  const podPart = arg.slice(0, i);
  const file = stripTrailingSlash(arg.slice(i + 1).replace(/\\/g, '/'));
  const pieces = podPart.split('/');
  if (pieces.length === 1) return { pod: pieces[0], file };
  if (pieces.length === 2) return { namespace: pieces[0], pod: pieces[1], file };
  throw new CliError('filespec must match the canonical format: [[namespace/]pod:]file/path');
}

/** Leading `../` and a leftover `.`/`..` removed, then one leading slash (kubectl's stripPathShortcuts). */
export function stripPathShortcuts(p: string): string {
  let s = p;
  while (s.startsWith('../')) s = s.slice(3);
  if (s === '.' || s === '..') s = '';
  return s.startsWith('/') ? s.slice(1) : s;
}

/**
 * Where each entry of an archive from the pod goes under `dest` (pure): names must start with
 * the source's prefix (else the archive was tampered with); entries that would land outside
 * `dest` and symlinks are skipped with kubectl's warnings.
 */
export function planExtract(entries: TarEntry[], remoteSrc: string, dest: string): { writes: { entry: TarEntry; target: string }[]; warnings: string[] } {
  const prefix = stripPathShortcuts(path.posix.normalize(remoteSrc.replace(/^[/\\]+/, '')).replace(/\/$/, ''));
  const warnings: string[] = [];
  const writes: { entry: TarEntry; target: string }[] = [];
  for (const e of entries) {
    if (!e.name.startsWith(prefix)) throw new CliError('tar contents corrupted');
    const target = path.join(dest, stripTrailingSlash(e.name.slice(prefix.length)));
    const rel = path.relative(dest, target);
    if (rel !== '' && (rel === '..' || rel.startsWith('../') || path.isAbsolute(rel))) {
      warnings.push(`warning: file "${target}" is outside target destination, skipping\n`);
      continue;
    }
    if (e.type === 'symlink') {
      warnings.push(`warning: skipping symlink: "${target}" -> "${e.linkname ?? ''}"\n`);
      continue;
    }
    writes.push({ entry: e, target });
  }
  return { writes, warnings };
}

/** The local tree at `src` as entries named under `destBase` (kubectl's recursiveTar). */
async function localEntries(src: string, destBase: string): Promise<TarEntry[]> {
  const st = await lstat(src);
  const mtime = Math.floor(st.mtimeMs / 1000);
  if (st.isDirectory()) {
    const names = (await readdir(src)).sort();
    if (names.length === 0) return [{ name: destBase, type: 'dir', mode: st.mode & 0o7777, mtime }];
    const out: TarEntry[] = [];
    for (const n of names) out.push(...(await localEntries(path.join(src, n), path.posix.join(destBase, n))));
    return out;
  }
  if (st.isSymbolicLink()) return [{ name: destBase, type: 'symlink', mode: st.mode & 0o7777, mtime, linkname: await readlink(src) }];
  return [{ name: destBase, type: 'file', mode: st.mode & 0o7777, mtime, data: await readFile(src) }];
}

class Collect extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    cb();
  }
}

/**
 * `coxctl cp SRC DEST`, one side in a pod (`[[ns/]pod:]path`): local → pod streams a tar into
 * `tar -xmf -` in the container; pod → local runs `tar cf - PATH` there and unpacks here.
 */
export async function runCp(ctx: Ctx, args: string[], flags: CpFlags): Promise<number> {
  if (args.length !== 2) throw new CliError('source and destination are required');
  const src = parseFileSpec(args[0]);
  const dest = parseFileSpec(args[1]);
  if (src.pod && dest.pod) throw new CliError('one of src or dest must be a local file specification');
  if (!src.file || !dest.file) throw new CliError('filepath can not be empty');
  try {
    if (src.pod) return await fromPod(ctx, src, dest.file, flags);
    if (dest.pod) return await toPod(ctx, src.file, dest, flags);
  } catch (err) {
    if (err instanceof ApiError) {
      ctx.err(formatApiError(err) + '\n');
      return 1;
    }
    throw err;
  }
  throw new CliError('one of src or dest must be a remote file specification');
}

async function target(ctx: Ctx, spec: FileSpec, flags: CpFlags): Promise<{ ns: string; pod: string; container: string }> {
  const ns = spec.namespace ?? ctx.namespace;
  const pod = await ctx.client.request<Pod>('GET', resourcePath(PODS, { namespace: ns, name: spec.pod! }));
  let container = flags.container;
  if (!container) {
    const d = defaultContainer(pod);
    container = d.name;
    if (d.note) ctx.err(d.note);
  }
  return { ns, pod: spec.pod!, container };
}

function failure(ctx: Ctx, r: ExecResult): number {
  if (r.kind === 'exit' && r.code === 0) return 0;
  ctx.err(r.kind === 'exit' ? `command terminated with exit code ${r.code}\n` : `error: ${r.message}\n`);
  return 1;
}

async function toPod(ctx: Ctx, local: string, dest: FileSpec, flags: CpFlags): Promise<number> {
  try {
    await lstat(local);
  } catch {
    throw new CliError(`${local} doesn't exist in local filesystem`);
  }
  const t = await target(ctx, dest, flags);
  let destFile = dest.file;
  const isDir = await execInPod(ctx.client, { namespace: t.ns, pod: t.pod, container: t.container, command: ['test', '-d', destFile], stdout: new Collect(), stderr: new Collect() });
  if (isDir.kind === 'exit' && isDir.code === 0) destFile = path.posix.join(destFile, path.basename(path.resolve(local)));
  const destClean = path.posix.normalize(destFile);
  const archive = packTar(await localEntries(path.normalize(local), path.posix.basename(destClean)));
  const cmd = flags.noPreserve ? ['tar', '--no-same-permissions', '--no-same-owner', '-xmf', '-'] : ['tar', '-xmf', '-'];
  const destDir = path.posix.dirname(destClean);
  if (destDir) cmd.push('-C', destDir);
  const input = new PassThrough();
  input.end(archive);
  const r = await execInPod(ctx.client, { namespace: t.ns, pod: t.pod, container: t.container, command: cmd, stdin: input, stdout: ctx.io.stdout, stderr: ctx.io.stderr });
  return failure(ctx, r);
}

async function fromPod(ctx: Ctx, src: FileSpec, localDest: string, flags: CpFlags): Promise<number> {
  const t = await target(ctx, src, flags);
  const out = new Collect();
  // As kubectl, the remote tar's messages go to our stdout.
  const r = await execInPod(ctx.client, { namespace: t.ns, pod: t.pod, container: t.container, command: ['tar', 'cf', '-', src.file], stdout: out, stderr: ctx.io.stdout });
  if (r.kind === 'error' || r.code !== 0) return failure(ctx, r);
  let entries: TarEntry[];
  try {
    entries = parseTar(Buffer.concat(out.chunks));
  } catch (err) {
    if (err instanceof TarFormatError) throw new CliError(err.message);
    throw err;
  }
  const plan = planExtract(entries, src.file, localDest);
  for (const w of plan.warnings) ctx.err(w);
  for (const { entry, target: file } of plan.writes) {
    if (entry.type === 'dir') {
      await mkdir(file, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, entry.data ?? Buffer.alloc(0));
  }
  return 0;
}
