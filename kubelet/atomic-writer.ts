import { promises as fs } from 'node:fs';
import path from 'node:path';
import { payloadHash, type Payload } from './volume-payloads';

/**
 * Kubernetes' AtomicWriter (pkg/volume/util/atomic_writer.go): a volume's files live in
 * `..<hash>/`, a `..data` symlink to it is swapped with rename(2), and each top-level
 * entry is a symlink `key → ..data/key`, so containers see a refresh all at once.
 */

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(() => true, () => false);
}

/**
 * Writes `payload` into `dir` atomically (Kubernetes' AtomicWriter layout).
 * Returns whether anything changed.
 */
export async function writeAtomic(dir: string, payload: Payload): Promise<boolean> {
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const target = `..${payloadHash(payload)}`;
  const current = await fs.readlink(path.join(dir, '..data')).catch(() => undefined);
  if (current === target && (await exists(path.join(dir, target)))) return false;
  const tsDir = path.join(dir, target);
  await fs.rm(tsDir, { recursive: true, force: true });
  await fs.mkdir(tsDir, { mode: 0o755 });
  for (const [rel, f] of payload) {
    const file = path.join(tsDir, rel);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
    await fs.writeFile(file, f.data);
    await fs.chmod(file, f.mode & 0o7777);
  }
  const tmp = path.join(dir, '..data_tmp');
  await fs.rm(tmp, { force: true });
  await fs.symlink(target, tmp);
  await fs.rename(tmp, path.join(dir, '..data'));
  const top = new Set([...payload.keys()].map((k) => k.split('/')[0]));
  for (const name of top) {
    const link = path.join(dir, name);
    if (!(await exists(link))) await fs.symlink(path.join('..data', name), link);
  }
  for (const entry of await fs.readdir(dir)) {
    const p = path.join(dir, entry);
    if (entry.startsWith('..')) {
      if (entry !== '..data' && entry !== target) await fs.rm(p, { recursive: true, force: true });
    } else if (!top.has(entry) && (await fs.lstat(p)).isSymbolicLink()) await fs.rm(p, { force: true });
  }
  return true;
}
