import * as path from 'node:path';
import * as fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { Level } from 'level';
import { type Entry, type HardState, type SnapshotMeta, mustSync } from '../raft/types';

/**
 * Stable storage for one member's Raft state: the hard state and the log, in one
 * LevelDB at `<data-dir>/raft` (via `level`'s classic-level), and snapshots of the
 * applied state as files in `<data-dir>/snap`.
 *
 * Contract: `save(hardState, entries, snapshot?)` writes everything in ONE batch
 * and resolves only once durable; the driver awaits it before sending messages,
 * applying entries or acknowledging clients. The batch is fsynced unless it only
 * moves the commit index (etcd's MustSync rule, types.ts `mustSync`): LevelDB
 * applies writes in order, so a later unsynced write never survives a crash
 * without the synced ones before it.
 *
 * Layout (keys are UTF-8 strings):
 *   "meta"            JSON {format, name, memberId, clusterId}
 *   "hs"              JSON {term, vote, commit}
 *   "snap"            JSON SnapshotMeta of the snapshot in force (absent: none)
 *   "e/<index:016d>"  entry: crc32(4, BE) | term(8, BE) | type(1) | data
 *   snap/<index:016d>-<term:016d>.snap   "CXS1" | crc32(4) | length(8) | data
 *
 * Snapshots and log compaction (§7), and why a crash at any point loses nothing:
 *  1. `writeSnapshotFile` writes the file under a temporary name, fsyncs it,
 *     renames it into place and fsyncs the directory. Until step 2 the file is an
 *     orphan that start-up deletes; the "snap" key still names the older snapshot,
 *     whose file and log suffix are intact.
 *  2. `compact` (a local snapshot) or `save(..., snapshot)` (one installed from the
 *     leader) writes "snap" and deletes the log entries it covers in ONE synced
 *     batch: either the old snapshot + old log or the new snapshot + shorter log
 *     is on disk, never a log with a hole.
 *  3. Older snapshot files are deleted only after step 2.
 * A restart loads the snapshot named by "snap" (checksum verified), restores the
 * state machine from it and replays only the committed entries after it.
 * Any unreadable record stops start-up with an error naming the file and key.
 */

export interface DiskMeta {
  format: 1;
  name: string;
  memberId: string;
  clusterId: string;
}

export interface LoadedState {
  meta?: DiskMeta;
  hardState: HardState;
  /** Entries after the snapshot (if any). */
  entries: Entry[];
  snapshot?: SnapshotMeta;
}

const SNAP_MAGIC = Buffer.from('CXS1');

const TYPE_CODE = { Normal: 0, ConfChange: 1 } as const;
const CODE_TYPE = ['Normal', 'ConfChange'] as const;

export function entryKey(index: number): string {
  return `e/${String(index).padStart(16, '0')}`;
}

function encodeEntry(e: Entry): Buffer {
  const b = Buffer.allocUnsafe(13 + e.data.byteLength);
  b.writeBigUInt64BE(BigInt(e.term), 4);
  b.writeUInt8(TYPE_CODE[e.type], 12);
  b.set(e.data, 13);
  b.writeUInt32BE(crc32(b.subarray(4)), 0);
  return b;
}

function decodeEntry(index: number, b: Buffer): Entry {
  if (b.length < 13) throw new Error('short record');
  if (crc32(b.subarray(4)) !== b.readUInt32BE(0)) throw new Error('checksum mismatch');
  const type = CODE_TYPE[b.readUInt8(12)];
  if (!type) throw new Error(`unknown entry type ${b.readUInt8(12)}`);
  return { index, term: Number(b.readBigUInt64BE(4)), type, data: b.subarray(13) };
}

type BatchOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class CorruptDataError extends Error {
  constructor(file: string, detail: string) {
    super(`store: data in ${file} is unreadable (${detail}); refusing to start rather than lose data. Restore the member from its peers (wipe its data dir) or from a backup.`);
    this.name = 'CorruptDataError';
  }
}

export class RaftDisk {
  private lastIndex = 0;
  /** Lowest stored entry index (entries below were compacted). */
  private firstIndex = 1;
  private prevHs: HardState = { term: 0, vote: '', commit: 0 };
  /** A commit-only hard state not yet written (see `save`). */
  private deferredHs: HardState | undefined;
  snapshot: SnapshotMeta | undefined;
  /** Index of a leader snapshot being installed (its batch may not have landed yet). */
  private installing = 0;
  readonly snapDir: string;

  private constructor(
    private readonly db: Level<string, Buffer>,
    readonly location: string,
    dataDir: string,
  ) {
    this.snapDir = path.join(dataDir, 'snap');
  }

  static async open(dataDir: string): Promise<RaftDisk> {
    const location = path.join(dataDir, 'raft');
    fs.mkdirSync(path.join(dataDir, 'snap'), { recursive: true });
    const db = new Level<string, Buffer>(location, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    try {
      await db.open();
    } catch (e) {
      const cause = (e as { cause?: Error }).cause?.message ?? (e as Error).message;
      throw new CorruptDataError(location, `cannot open LevelDB: ${cause}`);
    }
    return new RaftDisk(db, location, dataDir);
  }

  async load(): Promise<LoadedState> {
    let meta: DiskMeta | undefined;
    let hardState: HardState = { term: 0, vote: '', commit: 0 };
    const m = await this.db.get('meta');
    if (m !== undefined) meta = this.parseJson('meta', m) as DiskMeta;
    const h = await this.db.get('hs');
    if (h !== undefined) {
      const v = this.parseJson('hs', h) as HardState;
      if (typeof v.term !== 'number' || typeof v.vote !== 'string' || typeof v.commit !== 'number') {
        throw new CorruptDataError(this.location, 'key "hs": malformed hard state');
      }
      hardState = v;
    }
    const sm = await this.db.get('snap');
    let snapshot: SnapshotMeta | undefined;
    if (sm !== undefined) {
      const v = this.parseJson('snap', sm) as SnapshotMeta;
      if (!Number.isSafeInteger(v.index) || !Number.isSafeInteger(v.term) || !Array.isArray(v.voters)) {
        throw new CorruptDataError(this.location, 'key "snap": malformed snapshot metadata');
      }
      snapshot = v;
      if (!fs.existsSync(this.snapPath(v))) throw new CorruptDataError(this.snapDir, `snapshot file ${path.basename(this.snapPath(v))} is missing`);
    }
    this.removeOtherSnapshots(snapshot);
    const base = snapshot?.index ?? 0;
    const entries: Entry[] = [];
    let first = 0;
    for await (const [k, v] of this.db.iterator({ gte: 'e/', lt: 'e0' })) {
      const index = Number(k.slice(2));
      if (!Number.isSafeInteger(index)) throw new CorruptDataError(this.location, `key "${k}": bad index`);
      if (first === 0) {
        first = index;
        // Compaction keeps the log contiguous with the snapshot (it may keep some entries below it).
        if (index > base + 1) throw new CorruptDataError(this.location, `log gap: the log starts at ${index} but the snapshot ends at ${base}`);
      }
      if (entries.length === 0 && index <= base) continue; // covered by the snapshot
      const expected = entries.length === 0 ? base + 1 : entries[entries.length - 1].index + 1;
      if (index !== expected) throw new CorruptDataError(this.location, `log gap: expected entry ${expected}, found ${index}`);
      try {
        entries.push(decodeEntry(index, v));
      } catch (e) {
        throw new CorruptDataError(this.location, `key "${k}": ${(e as Error).message}`);
      }
    }
    const last = entries.length > 0 ? entries[entries.length - 1].index : base;
    if (hardState.commit > last) {
      throw new CorruptDataError(this.location, `hard state commit ${hardState.commit} is beyond the last stored entry ${last}`);
    }
    this.lastIndex = Math.max(last, first > 0 ? first - 1 : 0);
    this.firstIndex = first > 0 ? first : last + 1;
    this.prevHs = hardState;
    this.snapshot = snapshot;
    return { meta, hardState, entries, snapshot };
  }

  snapPath(m: { index: number; term: number }): string {
    return path.join(this.snapDir, `${String(m.index).padStart(16, '0')}-${String(m.term).padStart(16, '0')}.snap`);
  }

  /**
   * Step 1 of the snapshot protocol (see the file comment): make `data` durable as
   * the snapshot file for `meta`. Nothing refers to it until step 2.
   */
  async writeSnapshotFile(meta: { index: number; term: number }, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    // `data` may come in parts (a large snapshot is not concatenated in memory: that
    // copy would block the event loop); the file holds them back to back.
    const parts = data instanceof Uint8Array ? [data] : data;
    const final = this.snapPath(meta);
    const tmp = `${final}.tmp`;
    const header = Buffer.alloc(16);
    SNAP_MAGIC.copy(header, 0);
    let crc = 0;
    let length = 0;
    for (const p of parts) {
      crc = crc32(p, crc);
      length += p.byteLength;
    }
    header.writeUInt32BE(crc, 4);
    header.writeBigUInt64BE(BigInt(length), 8);
    const fh = await fs.promises.open(tmp, 'w');
    try {
      // writev takes at most IOV_MAX (1024) buffers per call on Linux; write in groups.
      await fh.write(header);
      for (let i = 0; i < parts.length; i += 512) await fh.writev(parts.slice(i, i + 512));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, final);
    await fsyncDir(this.snapDir);
  }

  /** Read and verify the snapshot file for `meta`. */
  async readSnapshotFile(meta: { index: number; term: number }): Promise<Buffer> {
    const file = this.snapPath(meta);
    let b: Buffer;
    try {
      b = await fs.promises.readFile(file);
    } catch (e) {
      throw new CorruptDataError(file, `cannot read snapshot: ${(e as Error).message}`);
    }
    if (b.length < 16 || !b.subarray(0, 4).equals(SNAP_MAGIC)) throw new CorruptDataError(file, 'not a snapshot file');
    const len = Number(b.readBigUInt64BE(8));
    const data = b.subarray(16);
    if (data.length !== len) throw new CorruptDataError(file, `snapshot truncated (${data.length} of ${len} bytes)`);
    if (crc32(data) !== b.readUInt32BE(4)) throw new CorruptDataError(file, 'snapshot checksum mismatch');
    return data;
  }

  /**
   * Step 2 for a local snapshot: `meta`'s file is durable (writeSnapshotFile); make
   * it the snapshot in force and drop stored entries up to `compactIndex`
   * (<= meta.index) in one synced batch; then delete older snapshot files.
   */
  async compact(meta: SnapshotMeta, compactIndex: number): Promise<boolean> {
    // A snapshot installed from the leader meanwhile supersedes this one (never go back).
    if (Math.max(this.snapshot?.index ?? 0, this.installing) >= meta.index) return false;
    const ops: BatchOp[] = [{ type: 'put', key: 'snap', value: Buffer.from(JSON.stringify(meta)) }];
    const upTo = Math.min(compactIndex, meta.index, this.lastIndex);
    for (let i = this.firstIndex; i <= upTo; i++) ops.push({ type: 'del', key: entryKey(i) });
    await this.db.batch(ops, { sync: true });
    if (upTo >= this.firstIndex) this.firstIndex = upTo + 1;
    this.snapshot = meta;
    this.removeOtherSnapshots(meta);
    return true;
  }

  /** Delete snapshot files other than `keep`'s and those newer than it (received, not yet installed). */
  private removeOtherSnapshots(keep: SnapshotMeta | undefined): void {
    let files: string[];
    try {
      files = fs.readdirSync(this.snapDir);
    } catch {
      return;
    }
    const keepName = keep ? path.basename(this.snapPath(keep)) : '';
    for (const f of files) {
      const m = /^(\d{16})-\d{16}\.snap(\.tmp)?$/.exec(f);
      if (!m || f === keepName) continue;
      if (!m[2] && keep && Number(m[1]) > keep.index) continue;
      try {
        fs.unlinkSync(path.join(this.snapDir, f));
      } catch {
        /* already gone */
      }
    }
  }

  async saveMeta(meta: DiskMeta): Promise<void> {
    await this.db.put('meta', Buffer.from(JSON.stringify(meta)), { sync: true });
  }

  /**
   * Durably write the hard state and new entries in one batch. Stored entries at
   * or after entries[0].index that the new ones do not overwrite are deleted (the
   * leader truncated them, §5.3). With `snapshot` (installed from the leader; its
   * file already written by `writeSnapshotFile`), every stored entry is deleted
   * and "snap" set in the same batch: the log restarts after it.
   */
  async save(hardState: HardState | undefined, entries: Entry[], snapshot?: SnapshotMeta): Promise<void> {
    if (!hardState && entries.length === 0 && !snapshot) return;
    // Only the commit index moved: nothing here has to be durable (mustSync), so do
    // not pay a LevelDB write (a thread-pool round trip) per commit. The hard state
    // rides along with the next batch (or `close`); a restart may resume with an
    // older commit index, never with a shorter log or an older term/vote (etcd
    // writes it unsynced for the same reason).
    if (!snapshot && entries.length === 0 && hardState && !mustSync(hardState, this.prevHs, 0)) {
      this.deferredHs = hardState;
      this.prevHs = hardState;
      return;
    }
    const ops: BatchOp[] = [];
    let newFirst = this.firstIndex;
    let newLast = this.lastIndex;
    if (snapshot) {
      ops.push({ type: 'put', key: 'snap', value: Buffer.from(JSON.stringify(snapshot)) });
      for (let i = this.firstIndex; i <= this.lastIndex; i++) ops.push({ type: 'del', key: entryKey(i) });
      newFirst = snapshot.index + 1;
      newLast = snapshot.index;
    }
    const hs = hardState ?? this.deferredHs;
    if (hs) ops.push({ type: 'put', key: 'hs', value: Buffer.from(JSON.stringify(hs)) });
    if (entries.length > 0) {
      for (const e of entries) ops.push({ type: 'put', key: entryKey(e.index), value: encodeEntry(e) });
      const last = entries[entries.length - 1].index;
      for (let i = last + 1; i <= newLast; i++) ops.push({ type: 'del', key: entryKey(i) });
      newLast = last;
      if (newFirst > entries[0].index) newFirst = entries[0].index;
    }
    const sync = snapshot !== undefined || mustSync(hardState, this.prevHs, entries.length);
    if (snapshot) this.installing = Math.max(this.installing, snapshot.index);
    // Any hard state written here is at least as new as the deferred one: drop it
    // (else `close` could write an older term/vote over this one).
    this.deferredHs = undefined;
    await this.db.batch(ops, { sync });
    this.firstIndex = newFirst;
    this.lastIndex = newLast;
    if (hardState) this.prevHs = hardState;
    if (snapshot) {
      this.snapshot = snapshot;
      this.removeOtherSnapshots(snapshot);
    }
  }

  async close(): Promise<void> {
    if (this.deferredHs) {
      // Best effort (not needed for safety): restart with the latest known commit index.
      await this.db.put('hs', Buffer.from(JSON.stringify(this.deferredHs))).catch(() => {});
      this.deferredHs = undefined;
    }
    await this.db.close();
  }

  private parseJson(key: string, v: Buffer): unknown {
    try {
      return JSON.parse(v.toString('utf8'));
    } catch {
      throw new CorruptDataError(this.location, `key "${key}": not valid JSON`);
    }
  }
}
