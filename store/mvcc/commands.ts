/**
 * The commands replicated through the Raft log: one documented union. Applying a
 * committed command is a pure function of the MVCC state and the command
 * (mvcc.ts `apply`). Keys and values are "binary strings" (latin1: one char per
 * byte, so string order is byte order and JSON round-trips them exactly). Lease
 * ids and other int64s are decimal strings.
 *
 * Encoded in log entries as UTF-8 JSON: {"id": <request id>, "op": Op}. The id lets
 * the member that proposed it hand the result back to the waiting client.
 */

import { Arena } from './arena';

export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';

export interface CompareSpec {
  result: CompareResult;
  target: CompareTarget;
  key: string;
  rangeEnd: string;
  /** VERSION/CREATE/MOD: a number; LEASE: decimal string; VALUE: binary string. */
  operand: number | string;
}

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';

export interface RangeOp {
  type: 'range';
  key: string;
  rangeEnd: string;
  limit: number;
  revision: number;
  sortOrder: SortOrder;
  sortTarget: SortTarget;
  keysOnly: boolean;
  countOnly: boolean;
  minModRevision: number;
  maxModRevision: number;
  minCreateRevision: number;
  maxCreateRevision: number;
}

export interface PutOp {
  type: 'put';
  key: string;
  value: string;
  lease: string;
  prevKv: boolean;
  ignoreValue: boolean;
  ignoreLease: boolean;
}

export interface DeleteOp {
  type: 'delete';
  key: string;
  rangeEnd: string;
  prevKv: boolean;
}

export interface TxnOp {
  type: 'txn';
  compare: CompareSpec[];
  success: RequestOp[];
  failure: RequestOp[];
}

export type RequestOp = RangeOp | PutOp | DeleteOp | TxnOp;

export interface CompactOp {
  type: 'compact';
  revision: number;
}

export interface LeaseGrantOp {
  type: 'leaseGrant';
  id: string;
  ttl: number;
}

export interface LeaseRevokeOp {
  type: 'leaseRevoke';
  id: string;
}

/**
 * A member announces its name and client URLs (etcd "publish"). Cluster
 * metadata, not MVCC data: applying it changes no revision.
 */
export interface MemberAttrOp {
  type: 'memberAttr';
  memberId: string;
  name: string;
  clientURLs: string[];
}

/** Write operations that go through the log. (Ranges only appear inside a Txn.) */
export type Op = PutOp | DeleteOp | TxnOp | CompactOp | LeaseGrantOp | LeaseRevokeOp | MemberAttrOp;

export interface Command {
  id: string;
  op: Op;
}

/** Log entry payloads stay in memory until the log is compacted: their own slabs (arena.ts). */
export const entryArena = new Arena();

export function encodeCommand(c: Command): Buffer {
  return entryArena.from(JSON.stringify(c), 'utf8');
}

export function decodeCommand(data: Uint8Array): Command {
  return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as Command;
}

/** etcd's prefix rule: the smallest key greater than every key with this prefix ("\0" if none). */
export function prefixEnd(key: string): string {
  for (let i = key.length - 1; i >= 0; i--) {
    const c = key.charCodeAt(i);
    if (c < 0xff) return key.slice(0, i) + String.fromCharCode(c + 1);
  }
  return '\0';
}
