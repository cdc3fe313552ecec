import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Level } from 'level';
import { RaftDisk, entryKey } from './raft-disk';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'raft-disk-'));
const ent = (index: number, term: number, d = 'x') => ({ index, term, type: 'Normal' as const, data: Buffer.from(d) });

test('hard state and entries survive reopen; a shorter rewrite truncates the stale suffix (§5.3)', async () => {
  const dir = tmp();
  let d = await RaftDisk.open(dir);
  await d.load();
  await d.save({ term: 1, vote: 'a', commit: 1 }, [ent(1, 1), ent(2, 1), ent(3, 1)]);
  await d.save({ term: 2, vote: 'b', commit: 1 }, [ent(2, 2, 'new')]);
  await d.close();
  d = await RaftDisk.open(dir);
  const s = await d.load();
  assert.deepEqual(s.hardState, { term: 2, vote: 'b', commit: 1 });
  assert.deepEqual(s.entries.map((e) => [e.index, e.term, Buffer.from(e.data).toString()]), [[1, 1, 'x'], [2, 2, 'new']]);
  await d.close();
  fs.rmSync(dir, { recursive: true });
});

test('a corrupted entry stops start-up with an error naming the database and key', async () => {
  const dir = tmp();
  const d = await RaftDisk.open(dir);
  await d.load();
  await d.save({ term: 1, vote: '', commit: 2 }, [ent(1, 1), ent(2, 1)]);
  await d.close();
  const raw = new Level<string, Buffer>(path.join(dir, 'raft'), { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  const v = (await raw.get(entryKey(2)))!;
  v[v.length - 1] ^= 0xff;
  await raw.put(entryKey(2), v);
  await raw.close();
  const d2 = await RaftDisk.open(dir);
  await assert.rejects(d2.load(), (e: Error) => e.message.includes(path.join(dir, 'raft')) && e.message.includes(entryKey(2)) && /checksum/.test(e.message));
  await d2.close();
  fs.rmSync(dir, { recursive: true });
});

test('an unopenable database is a clear error naming the file', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'raft'), 'not a directory');
  await assert.rejects(RaftDisk.open(dir), (e: Error) => e.message.includes(path.join(dir, 'raft')));
  fs.rmSync(dir, { recursive: true });
});
