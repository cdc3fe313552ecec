import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packTar, parseTar, TarFormatError, type TarEntry } from './tar';

const entries: TarEntry[] = [
  { name: 'top/a.txt', type: 'file', mode: 0o644, mtime: 1_700_000_000, data: Buffer.from('alpha\n') },
  { name: 'top/empty', type: 'dir', mode: 0o755, mtime: 1_700_000_000 },
  { name: `top/${'d'.repeat(60)}/${'n'.repeat(60)}`, type: 'file', mode: 0o600, mtime: 1_700_000_000, data: Buffer.alloc(1025, 7) },
  { name: 'top/link', type: 'symlink', mode: 0o777, mtime: 1_700_000_000, linkname: 'a.txt' },
];

test('what packTar writes, parseTar reads back: names over 100 bytes, modes, data, links', () => {
  const back = parseTar(packTar(entries));
  assert.deepEqual(back.map((e) => [e.name, e.type, e.mode, e.data?.length, e.linkname]), entries.map((e) => [e.name, e.type, e.mode, e.data?.length, e.linkname]));
  assert.deepEqual(back[2].data, entries[2].data);
});

test('GNU tar reads our archives, and we read its (ustar prefix, pax, long names)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cxs-tar-'));
  writeFileSync(path.join(dir, 'ours.tar'), packTar(entries));
  mkdirSync(path.join(dir, 'out'));
  execFileSync('tar', ['-xf', path.join(dir, 'ours.tar'), '-C', path.join(dir, 'out')]);
  assert.equal(readFileSync(path.join(dir, 'out', 'top', 'a.txt'), 'utf8'), 'alpha\n');
  assert.equal(readFileSync(path.join(dir, 'out', 'top', 'd'.repeat(60), 'n'.repeat(60))).length, 1025);
  for (const format of ['gnu', 'ustar', 'pax']) {
    const archive = execFileSync('tar', ['-cf', '-', `--format=${format}`, '-C', path.join(dir, 'out'), 'top']);
    const names = parseTar(archive).map((e) => e.name).sort();
    assert.deepEqual(names, ['top', 'top/a.txt', `top/${'d'.repeat(60)}`, `top/${'d'.repeat(60)}/${'n'.repeat(60)}`, 'top/empty', 'top/link'], format);
  }
});

test('a damaged header is refused', () => {
  const bad = packTar(entries);
  bad[10] ^= 0xff;
  assert.throws(() => parseTar(bad), TarFormatError);
});
