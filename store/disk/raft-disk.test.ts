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

test('§7 snapshot + compaction: the snapshot in force and the log after it survive reopen; orphan files are removed', async () => {
  const dir = tmp();
  let d = await RaftDisk.open(dir);
  await d.load();
  await d.save({ term: 1, vote: 'a', commit: 6 }, [1, 2, 3, 4, 5, 6].map((i) => ent(i, 1, `v${i}`)));
  const meta = { index: 5, term: 1, voters: ['a', 'b'] };
  await d.writeSnapshotFile(meta, Buffer.from('state@5'));
  await d.compact(meta, 3); // keep 4..6 for slow followers
  // A crash between writing a newer file and recording it leaves an orphan:
  await d.writeSnapshotFile({ index: 3, term: 1 }, Buffer.from('old'));
  fs.writeFileSync(path.join(dir, 'snap', 'x.tmp'), 'junk');
  await d.close();
  d = await RaftDisk.open(dir);
  const s = await d.load();
  assert.deepEqual(s.snapshot, meta);
  assert.equal((await d.readSnapshotFile(meta)).toString(), 'state@5');
  assert.deepEqual(s.entries.map((e) => e.index), [6], 'entries covered by the snapshot are not replayed');
  assert.deepEqual(fs.readdirSync(path.join(dir, 'snap')).filter((f) => f.endsWith('.snap')), [path.basename(d.snapPath(meta))]);
  // A snapshot installed from the leader replaces the whole log.
  const leaderSnap = { index: 20, term: 3, voters: ['a', 'b', 'c'] };
  await d.writeSnapshotFile(leaderSnap, Buffer.from('state@20'));
  await d.save({ term: 3, vote: '', commit: 20 }, [], leaderSnap);
  await d.save(undefined, [ent(21, 3)]);
  await d.close();
  d = await RaftDisk.open(dir);
  const s2 = await d.load();
  assert.deepEqual(s2.snapshot, leaderSnap);
  assert.deepEqual(s2.entries.map((e) => e.index), [21]);
  assert.equal(s2.hardState.commit, 20);
  await d.close();
  fs.rmSync(dir, { recursive: true });
});

test('a corrupted snapshot file stops start-up with a clear error', async () => {
  const dir = tmp();
  const d = await RaftDisk.open(dir);
  await d.load();
  const meta = { index: 2, term: 1, voters: ['a'] };
  await d.save({ term: 1, vote: 'a', commit: 2 }, [ent(1, 1), ent(2, 1)]);
  await d.writeSnapshotFile(meta, Buffer.from('state'));
  await d.compact(meta, 2);
  const f = d.snapPath(meta);
  const b = fs.readFileSync(f);
  b[b.length - 1] ^= 0xff;
  fs.writeFileSync(f, b);
  await assert.rejects(d.readSnapshotFile(meta), /snapshot checksum mismatch/);
  await d.close();
  fs.rmSync(dir, { recursive: true });
});

test('a commit-only hard state is not written by itself: it rides with the next batch, or close writes it', async () => {
  const dir = tmp();
  let d = await RaftDisk.open(dir);
  await d.load();
  await d.save({ term: 1, vote: 'a', commit: 1 }, [ent(1, 1), ent(2, 1)]);
  await d.save({ term: 1, vote: 'a', commit: 2 }, []); // commit only: deferred
  // (A crash here would restart with commit 1: Raft re-learns the commit index from the leader.)
  const raw = new Level<string, Buffer>(path.join(dir, 'raft'), { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  const peek = async (): Promise<unknown> => {
    await raw.open();
    const v = JSON.parse((await raw.get('hs'))!.toString());
    await raw.close();
    return v;
  };
  await d.close(); // close writes the deferred commit
  assert.deepEqual(await peek(), { term: 1, vote: 'a', commit: 2 });
  d = await RaftDisk.open(dir);
  assert.deepEqual((await d.load()).hardState, { term: 1, vote: 'a', commit: 2 });
  await d.save({ term: 1, vote: 'a', commit: 2 }, [ent(3, 1)]);
  await d.save({ term: 1, vote: 'a', commit: 3 }, []); // deferred
  await d.save(undefined, [ent(4, 1)]); // carries commit 3
  await d.save({ term: 1, vote: 'a', commit: 4 }, []); // deferred
  await d.save({ term: 2, vote: 'b', commit: 4 }, [ent(5, 2)]); // a newer term supersedes the deferred one
  await d.close(); // must not write the older deferred term/vote back
  d = await RaftDisk.open(dir);
  assert.deepEqual((await d.load()).hardState, { term: 2, vote: 'b', commit: 4 });
  await d.save({ term: 2, vote: 'b', commit: 5 }, []); // deferred, then written by close
  await d.close();
  d = await RaftDisk.open(dir);
  const s = await d.load();
  assert.deepEqual(s.hardState, { term: 2, vote: 'b', commit: 5 });
  assert.deepEqual(s.entries.map((e) => e.index), [1, 2, 3, 4, 5]);
  await d.close();
  fs.rmSync(dir, { recursive: true });
});
