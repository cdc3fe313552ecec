import type { MvccSnapshot } from '../mvcc/mvcc';
import type { MemberInfo } from './member-info';

/** What a store snapshot file holds: cluster membership and the MVCC state at the snapshot index. */
export interface StoreSnapshot {
  v: 1;
  members: MemberInfo[];
  mvcc: MvccSnapshot;
}

/** Parse a snapshot file's data; throws on anything that is not a v1 store snapshot. */
export function parseSnapshot(data: Buffer): StoreSnapshot {
  let s: StoreSnapshot;
  try {
    s = JSON.parse(data.toString('utf8')) as StoreSnapshot;
  } catch {
    throw new Error('store: snapshot is not valid JSON');
  }
  if (!s || s.v !== 1 || !Array.isArray(s.members) || !s.mvcc) throw new Error('store: unsupported snapshot format');
  return s;
}

/**
 * A StoreSnapshot's JSON text as parts to write one after the other: `membersJson`
 * (the member list as JSON) and the MVCC state already serialised (`serializeCut`).
 */
export function snapshotParts(membersJson: string, mvccParts: Buffer[]): Buffer[] {
  return [Buffer.from(`{"v":1,"members":${membersJson},"mvcc":`), ...mvccParts, Buffer.from('}')];
}
