import * as path from 'node:path';
import * as fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { Level } from 'level';
import type { Entry, HardState } from '../raft/types';

/**
 * Stable storage for one member's Raft state: the hard state and the log, in one
 * LevelDB at `<data-dir>/raft` (via `level`'s classic-level).
 *
 * Contract: `save(hardState, entries)` writes both in ONE batch with
 * `sync: true` (fsync) and resolves only once durable; the driver awaits it
 * before sending messages, applying entries or acknowledging clients.
 *
 * Layout (keys are UTF-8 strings):
 *   "meta"            JSON {format, name, memberId, clusterId}
 *   "hs"              JSON {term, vote, commit}
 *   "e/<index:016d>"  entry: crc32(4, BE) | term(8, BE) | type(1) | data
 *
 * The applied MVCC state is NOT persisted: on restart the whole log up to the
 * persisted commit index is replayed into a fresh MVCC (simple and obviously
 * correct; snapshots replace this in a later stage). Any unreadable record stops
 * start-up with an error naming the database directory and the key.
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
  entries: Entry[];
}

const TYPE_CODE = { Normal: 0, ConfChange: 1 } as const;
const CODE_TYPE = ['Normal', 'ConfChange'] as const;

export function entryKey(index: number): string {
  return `e/${String(index).padStart(16, '0')}`;
}

export function encodeEntry(e: Entry): Buffer {
  const b = Buffer.allocUnsafe(13 + e.data.byteLength);
  b.writeBigUInt64BE(BigInt(e.term), 4);
  b.writeUInt8(TYPE_CODE[e.type], 12);
  b.set(e.data, 13);
  b.writeUInt32BE(crc32(b.subarray(4)), 0);
  return b;
}

export function decodeEntry(index: number, b: Buffer): Entry {
  if (b.length < 13) throw new Error('short record');
  if (crc32(b.subarray(4)) !== b.readUInt32BE(0)) throw new Error('checksum mismatch');
  const type = CODE_TYPE[b.readUInt8(12)];
  if (!type) throw new Error(`unknown entry type ${b.readUInt8(12)}`);
  return { index, term: Number(b.readBigUInt64BE(4)), type, data: b.subarray(13) };
}

export class CorruptDataError extends Error {
  constructor(file: string, detail: string) {
    super(`store: data in ${file} is unreadable (${detail}); refusing to start rather than lose data. Restore the member from its peers (wipe its data dir) or from a backup.`);
    this.name = 'CorruptDataError';
  }
}

export class RaftDisk {
  private lastIndex = 0;

  private constructor(
    private readonly db: Level<string, Buffer>,
    readonly location: string,
  ) {}

  static async open(dataDir: string): Promise<RaftDisk> {
    const location = path.join(dataDir, 'raft');
    fs.mkdirSync(dataDir, { recursive: true });
    const db = new Level<string, Buffer>(location, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    try {
      await db.open();
    } catch (e) {
      const cause = (e as { cause?: Error }).cause?.message ?? (e as Error).message;
      throw new CorruptDataError(location, `cannot open LevelDB: ${cause}`);
    }
    return new RaftDisk(db, location);
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
    const entries: Entry[] = [];
    for await (const [k, v] of this.db.iterator({ gte: 'e/', lt: 'e0' })) {
      const index = Number(k.slice(2));
      if (!Number.isSafeInteger(index)) throw new CorruptDataError(this.location, `key "${k}": bad index`);
      const expected = entries.length === 0 ? 1 : entries[entries.length - 1].index + 1;
      if (index !== expected) throw new CorruptDataError(this.location, `log gap: expected entry ${expected}, found ${index}`);
      try {
        entries.push(decodeEntry(index, v));
      } catch (e) {
        throw new CorruptDataError(this.location, `key "${k}": ${(e as Error).message}`);
      }
    }
    const last = entries.length > 0 ? entries[entries.length - 1].index : 0;
    if (hardState.commit > last) {
      throw new CorruptDataError(this.location, `hard state commit ${hardState.commit} is beyond the last stored entry ${last}`);
    }
    this.lastIndex = last;
    return { meta, hardState, entries };
  }

  async saveMeta(meta: DiskMeta): Promise<void> {
    await this.db.put('meta', Buffer.from(JSON.stringify(meta)), { sync: true });
  }

  /**
   * Durably write the hard state and new entries in one synced batch. Stored
   * entries at or after entries[0].index that the new ones do not overwrite are
   * deleted (the leader truncated them, §5.3).
   *
   * Always synced. (etcd skips the fsync when only the commit index changed —
   * its MustSync rule; a possible later optimisation, not measurable here yet.)
   */
  async save(hardState: HardState | undefined, entries: Entry[]): Promise<void> {
    if (!hardState && entries.length === 0) return;
    const ops: ({ type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string })[] = [];
    if (hardState) ops.push({ type: 'put', key: 'hs', value: Buffer.from(JSON.stringify(hardState)) });
    let newLast = this.lastIndex;
    if (entries.length > 0) {
      for (const e of entries) ops.push({ type: 'put', key: entryKey(e.index), value: encodeEntry(e) });
      newLast = entries[entries.length - 1].index;
      for (let i = newLast + 1; i <= this.lastIndex; i++) ops.push({ type: 'del', key: entryKey(i) });
    }
    await this.db.batch(ops, { sync: true });
    this.lastIndex = newLast;
  }

  async close(): Promise<void> {
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
