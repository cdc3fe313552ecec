import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Payload } from './volume-payloads';
import { writeAtomic } from './atomic-writer';

test('writeAtomic: ..data symlink swap, top-level links, stale entries removed, no-op when unchanged', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-atomic-'));
  try {
    const p1: Payload = new Map([['a', { data: Buffer.from('1'), mode: 0o644 }], ['d/b', { data: Buffer.from('2'), mode: 0o600 }]]);
    assert.equal(await writeAtomic(dir, p1), true);
    assert.equal(await writeAtomic(dir, p1), false, 'unchanged');
    const first = await readlink(path.join(dir, '..data'));
    assert.equal(await readlink(path.join(dir, 'a')), '..data/a');
    assert.equal(await readFile(path.join(dir, 'd/b'), 'utf8'), '2');
    assert.equal((await stat(path.join(dir, 'd/b'))).mode & 0o777, 0o600);
    const p2: Payload = new Map([['a', { data: Buffer.from('one'), mode: 0o644 }]]);
    assert.equal(await writeAtomic(dir, p2), true);
    assert.notEqual(await readlink(path.join(dir, '..data')), first);
    assert.equal(await readFile(path.join(dir, 'a'), 'utf8'), 'one');
    assert.deepEqual((await readdir(dir)).sort(), ['..data', await readlink(path.join(dir, '..data')), 'a'].sort());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
