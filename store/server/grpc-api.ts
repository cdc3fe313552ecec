import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR } from '../proto';
import { EtcdError } from '../errors';
import type { CompareSpec, DeleteOp, PutOp, RangeOp, RequestOp, TxnOp } from '../mvcc/commands';
import type { ApplyResult, KeyValue, MvccEvent } from '../mvcc/mvcc';
import type { EtcdServer } from './etcd-server';
import { decToHex, hexToDec } from './ids';
import type { Logger } from '../../lib/log';

/**
 * The etcd v3 client API (KV, Watch, Lease, Cluster, Maintenance) as gRPC
 * handlers over an EtcdServer. Requests are decoded with proto-loader
 * {keepCase, longs: String, enums: String, bytes: Buffer, defaults, oneofs};
 * every handler converts thrown errors to gRPC statuses, so no request can crash
 * the process.
 */

/** Reported by Maintenance.Status; the etcd API level this store emulates. */
const EMULATED_ETCD_VERSION = '3.4.23';
const MAX_TXN_OPS = 128;
/** etcd's --max-request-bytes default: larger writes fail with "etcdserver: request is too large". */
const MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/** etcd's gRPC limit: max request bytes + 512 KiB of overhead; larger messages are refused by gRPC itself. */
export const MAX_GRPC_RECV_BYTES = MAX_REQUEST_BYTES + 512 * 1024;

/** A request message as proto-loader decodes it (fields per etcd.proto; narrowed where read). */
type Req = Record<string, unknown>;

let etcdPkg: grpc.GrpcObject | undefined;
function loadEtcd(): grpc.GrpcObject {
  if (!etcdPkg) {
    const def = protoLoader.loadSync(path.join(PROTO_DIR, 'etcd.proto'), {
      keepCase: true,
      longs: String,
      enums: String,
      bytes: Buffer,
      defaults: true,
      oneofs: true,
      includeDirs: [PROTO_DIR],
    });
    etcdPkg = grpc.loadPackageDefinition(def);
  }
  return etcdPkg;
}

const str = (b: unknown): string => (Buffer.isBuffer(b) ? b.toString('latin1') : typeof b === 'string' ? b : '');
const int = (v: unknown): number => {
  const n = Number(v ?? 0);
  if (!Number.isFinite(n)) throw new EtcdError('InvalidArgument', 'bad integer');
  return n;
};
const id64 = (v: unknown): string => {
  const s = String(v ?? '0');
  if (!/^-?\d+$/.test(s)) throw new EtcdError('InvalidArgument', 'bad id');
  return BigInt.asIntN(64, BigInt(s)).toString();
};

function toRangeOp(r: Req): RangeOp {
  if (str(r.key) === '') throw new EtcdError('EmptyKey');
  return {
    type: 'range',
    key: str(r.key),
    rangeEnd: str(r.range_end),
    limit: int(r.limit),
    revision: int(r.revision),
    sortOrder: (r.sort_order ?? 'NONE') as RangeOp['sortOrder'],
    sortTarget: (r.sort_target ?? 'KEY') as RangeOp['sortTarget'],
    keysOnly: r.keys_only === true,
    countOnly: r.count_only === true,
    minModRevision: int(r.min_mod_revision),
    maxModRevision: int(r.max_mod_revision),
    minCreateRevision: int(r.min_create_revision),
    maxCreateRevision: int(r.max_create_revision),
  };
}

function toPutOp(r: Req): PutOp {
  if (str(r.key) === '') throw new EtcdError('EmptyKey');
  const lease = id64(r.lease);
  if (r.ignore_value && Buffer.isBuffer(r.value) && r.value.length > 0) throw new EtcdError('ValueProvided');
  if (r.ignore_lease && lease !== '0') throw new EtcdError('LeaseProvided');
  return {
    type: 'put',
    key: str(r.key),
    value: str(r.value),
    lease,
    prevKv: r.prev_kv === true,
    ignoreValue: r.ignore_value === true,
    ignoreLease: r.ignore_lease === true,
  };
}

function toDeleteOp(r: Req): DeleteOp {
  if (str(r.key) === '') throw new EtcdError('EmptyKey');
  return { type: 'delete', key: str(r.key), rangeEnd: str(r.range_end), prevKv: r.prev_kv === true };
}

function toCompare(c: Req): CompareSpec {
  const target = (c.target ?? 'VERSION') as CompareSpec['target'];
  let operand: number | string;
  switch (target) {
    case 'VALUE':
      operand = str(c.value);
      break;
    case 'LEASE':
      operand = id64(c.lease);
      break;
    case 'VERSION':
      operand = int(c.version);
      break;
    case 'CREATE':
      operand = int(c.create_revision);
      break;
    case 'MOD':
      operand = int(c.mod_revision);
      break;
    default:
      throw new EtcdError('InvalidArgument', `unknown compare target ${String(target)}`);
  }
  if (str(c.key) === '') throw new EtcdError('EmptyKey');
  return { result: (c.result ?? 'EQUAL') as CompareSpec['result'], target, key: str(c.key), rangeEnd: str(c.range_end), operand };
}

function toRequestOp(o: Req): RequestOp {
  if (o.request_range) return toRangeOp(o.request_range as Req);
  if (o.request_put) return toPutOp(o.request_put as Req);
  if (o.request_delete_range) return toDeleteOp(o.request_delete_range as Req);
  if (o.request_txn) return toTxnOp(o.request_txn as Req);
  throw new EtcdError('InvalidArgument', 'empty request op');
}

function toTxnOp(r: Req): TxnOp {
  const compare = ((r.compare as Req[]) ?? []).map(toCompare);
  const success = ((r.success as Req[]) ?? []).map(toRequestOp);
  const failure = ((r.failure as Req[]) ?? []).map(toRequestOp);
  if (compare.length > MAX_TXN_OPS || success.length > MAX_TXN_OPS || failure.length > MAX_TXN_OPS) throw new EtcdError('TooManyOps');
  for (const branch of [success, failure]) {
    const seen = new Set<string>();
    for (const o of branch) {
      if (o.type !== 'put') continue;
      if (seen.has(o.key)) throw new EtcdError('DuplicateKey');
      seen.add(o.key);
    }
  }
  return { type: 'txn', compare, success, failure };
}

/** Bytes of keys and values a write carries (what etcd's request-size limit measures, near enough). */
function opBytes(o: RequestOp | CompareSpec): number {
  if ('result' in o) return o.key.length + o.rangeEnd.length + (typeof o.operand === 'string' ? o.operand.length : 8);
  switch (o.type) {
    case 'put':
      return o.key.length + o.value.length + 16;
    case 'delete':
    case 'range':
      return o.key.length + o.rangeEnd.length + 16;
    case 'txn':
      return [...o.compare, ...o.success, ...o.failure].reduce((n, x) => n + opBytes(x), 0);
  }
}

function checkSize(o: RequestOp): void {
  if (opBytes(o) > MAX_REQUEST_BYTES) throw new EtcdError('RequestTooLarge');
}

function isReadOnly(t: TxnOp): boolean {
  return [...t.success, ...t.failure].every((o) => o.type === 'range' || (o.type === 'txn' && isReadOnly(o)));
}

function unwrap(r: ApplyResult): { revision: number; response: Record<string, unknown> } {
  if (r.error) throw new EtcdError(r.error);
  return r;
}

/** Fill the header of nested txn responses (etcd fills them too). */
function withHeaders(resp: Record<string, unknown>, header: unknown): Record<string, unknown> {
  const responses = (resp.responses as Record<string, Record<string, unknown>>[]) ?? [];
  return {
    ...resp,
    header,
    responses: responses.map((ro) => {
      const [k, v] = Object.entries(ro)[0];
      return { [k]: k === 'response_txn' ? withHeaders(v, header) : { ...v, header } };
    }),
  };
}

function statusOf(e: unknown, log: Logger): Partial<grpc.StatusObject> {
  if (e instanceof EtcdError) return { code: e.code, details: e.message };
  const g = e as { grpcCode?: number; message?: string };
  if (typeof g?.grpcCode === 'number') return { code: g.grpcCode, details: g.message };
  log.error({ err: e }, 'internal error serving request');
  return { code: grpc.status.INTERNAL, details: `etcdserver: internal error: ${(e as Error)?.message ?? String(e)}` };
}

function unary(log: Logger, fn: (req: Req) => Promise<unknown> | unknown) {
  return (call: grpc.ServerUnaryCall<Req, unknown>, cb: grpc.sendUnaryData<unknown>): void => {
    Promise.resolve()
      .then(() => fn(call.request ?? {}))
      .then(
        (r) => cb(null, r),
        (e) => cb(statusOf(e, log)),
      );
  };
}

function dirSize(dir: string): number {
  let total = 0;
  try {
    for (const f of fs.readdirSync(dir)) {
      try {
        total += fs.statSync(path.join(dir, f)).size;
      } catch {
        /* file vanished (compaction) */
      }
    }
  } catch {
    /* no dir */
  }
  return total;
}

export interface ApiOptions {
  progressNotifyIntervalMs: number;
  dataDir: string;
}

export function addEtcdServices(server: grpc.Server, s: EtcdServer, log: Logger, opts: ApiOptions): void {
  const pb = loadEtcd().etcdserverpb as Record<'KV' | 'Watch' | 'Lease' | 'Cluster' | 'Maintenance', grpc.ServiceClientConstructor>;
  const header = (rev?: number): unknown => s.header(rev);

  server.addService(pb.KV.service, {
    Range: unary(log, async (r) => {
      const res = await s.range(toRangeOp(r), r.serializable === true);
      return { header: header(res.revision), kvs: res.kvs, more: res.more, count: res.count };
    }),
    Put: unary(log, async (r) => {
      const op = toPutOp(r);
      checkSize(op);
      const res = unwrap(await s.write(op));
      return { header: header(res.revision), ...res.response };
    }),
    DeleteRange: unary(log, async (r) => {
      const res = unwrap(await s.write(toDeleteOp(r)));
      return { header: header(res.revision), ...res.response };
    }),
    Txn: unary(log, async (r) => {
      const op = toTxnOp(r);
      checkSize(op);
      let res: { revision: number; response: Record<string, unknown> };
      if (isReadOnly(op)) {
        // etcd serves read-only txns on the read path: a read barrier, then local evaluation (no state change).
        await s.readBarrier();
        res = unwrap(s.mvcc.apply(op));
      } else {
        res = unwrap(await s.write(op));
      }
      return withHeaders(res.response, header(res.revision));
    }),
    Compact: unary(log, async (r) => {
      const res = unwrap(await s.write({ type: 'compact', revision: int(r.revision) }));
      return { header: header(res.revision) };
    }),
  });

  server.addService(pb.Watch.service, {
    Watch: (call: grpc.ServerDuplexStream<Req, unknown>) => new WatchSession(call, s, log, opts.progressNotifyIntervalMs),
  });

  server.addService(pb.Lease.service, {
    LeaseGrant: unary(log, async (r) => {
      const res = unwrap(await s.leaseGrant(int(r.TTL), id64(r.ID)));
      return { header: header(res.revision), ID: res.response.ID, TTL: res.response.TTL, error: '' };
    }),
    LeaseRevoke: unary(log, async (r) => {
      const res = unwrap(await s.leaseRevoke(id64(r.ID)));
      return { header: header(res.revision) };
    }),
    LeaseKeepAlive: (call: grpc.ServerDuplexStream<Req, unknown>) => {
      call.on('data', (r: Req) => {
        let id: string;
        try {
          id = id64(r?.ID);
        } catch {
          return;
        }
        s.leaseQuery(id, true).then(
          (q) => {
            if (!call.cancelled && call.writable) call.write({ header: header(), ID: id, TTL: q.found ? q.ttl : 0 });
          },
          (e) => {
            if (!call.cancelled) call.emit('error', statusOf(e, log));
          },
        );
      });
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
    LeaseTimeToLive: unary(log, async (r) => {
      const id = id64(r.ID);
      const q = await s.leaseQuery(id, false);
      if (!q.found) return { header: header(), ID: id, TTL: -1, grantedTTL: 0, keys: [] };
      const keys = r.keys ? [...(s.mvcc.leases.get(id)?.keys ?? [])].sort().map((k) => Buffer.from(k, 'latin1')) : [];
      return { header: header(), ID: id, TTL: q.ttl, grantedTTL: q.grantedTTL, keys };
    }),
    LeaseLeases: unary(log, async () => {
      await s.readBarrier();
      return { header: header(), leases: [...s.mvcc.leases.keys()].map((ID) => ({ ID })) };
    }),
  });

  const toMember = (m: { idHex: string; name: string; peerURLs: string[]; clientURLs: string[] }): unknown => ({
    ID: hexToDec(m.idHex),
    name: m.name,
    peerURLs: m.peerURLs,
    clientURLs: m.clientURLs,
    isLearner: false,
  });
  const members = (): unknown[] => [...s.members.values()].map(toMember);
  const unimplemented = unary(log, () => {
    throw new EtcdError('Unimplemented');
  });
  const memberId = (v: unknown): string => {
    const d = id64(v);
    if (d === '0') throw new EtcdError('MemberNotFound');
    return decToHex(BigInt.asUintN(64, BigInt(d)).toString());
  };
  const urls = (v: unknown): string[] => (Array.isArray(v) ? v.filter((u): u is string => typeof u === 'string' && u !== '') : []);

  // Membership changes go through the log one at a time (dissertation §4.1); see EtcdServer.changeMembership.
  server.addService(pb.Cluster.service, {
    MemberList: unary(log, () => ({ header: header(), members: members() })),
    MemberAdd: unary(log, async (r) => {
      if (r.isLearner === true) throw new EtcdError('Unimplemented', 'learner members');
      const m = await s.memberAdd(urls(r.peerURLs));
      return { header: header(), member: toMember(m), members: members() };
    }),
    MemberRemove: unary(log, async (r) => {
      await s.memberRemove(memberId(r.ID));
      return { header: header(), members: members() };
    }),
    MemberUpdate: unary(log, async (r) => {
      await s.memberUpdate(memberId(r.ID), urls(r.peerURLs));
      return { header: header(), members: members() };
    }),
    MemberPromote: unary(log, (r) => {
      // Every member is a voter (no learners yet), so there is nothing to promote.
      if (!s.members.has(memberId(r.ID))) throw new EtcdError('MemberNotFound');
      throw new EtcdError('MemberNotLearner');
    }),
  });

  server.addService(pb.Maintenance.service, {
    Status: unary(log, () => {
      const size = dirSize(path.join(opts.dataDir, 'raft'));
      return {
        header: header(),
        version: EMULATED_ETCD_VERSION,
        dbSize: size,
        leader: hexToDec(s.leaderHex),
        raftIndex: s.node.raft.log.lastIndex(),
        raftTerm: s.term,
        raftAppliedIndex: s.appliedIndex,
        errors: [],
        dbSizeInUse: size,
        isLearner: false,
      };
    }),
    Alarm: unary(log, () => ({ header: header(), alarms: [] })),
    Defragment: unary(log, () => ({ header: header() })),
    Hash: unimplemented,
    HashKV: unimplemented,
    MoveLeader: unary(log, async (r) => {
      await s.moveLeader(memberId(r.targetID));
      return { header: header() };
    }),
  });
}

interface Watcher {
  id: number;
  key: string;
  end: string;
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
  progressNotify: boolean;
  /** Next revision this watcher has not yet been sent. */
  nextRev: number;
  sentSinceProgress: boolean;
}

/** One Watch stream: any number of watchers, fed from this member's applied state. */
class WatchSession {
  private watchers = new Map<number, Watcher>();
  private nextId = 0;
  private unsubscribe: () => void;
  private progressTimer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly call: grpc.ServerDuplexStream<Req, unknown>,
    private readonly s: EtcdServer,
    private readonly log: Logger,
    progressMs: number,
  ) {
    this.unsubscribe = s.mvcc.onEvents((rev, evs) => this.onEvents(rev, evs));
    this.progressTimer = setInterval(() => this.progress(), progressMs);
    this.progressTimer.unref?.();
    call.on('data', (req: Req) => {
      try {
        this.onRequest(req);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'bad watch request');
      }
    });
    call.on('end', () => this.close(true));
    call.on('cancelled', () => this.close(false));
    call.on('error', () => this.close(false));
  }

  private send(msg: Record<string, unknown>): void {
    if (this.closed || this.call.cancelled) return;
    try {
      this.call.write(msg);
    } catch {
      this.close(false);
    }
  }

  private onRequest(req: Req): void {
    if (req.create_request) this.create(req.create_request as Req);
    else if (req.cancel_request) {
      const id = int((req.cancel_request as Req).watch_id);
      if (this.watchers.delete(id)) this.send({ header: this.s.header(), watch_id: id, canceled: true });
    } else if (req.progress_request) {
      this.send({ header: this.s.header(), watch_id: -1 });
    }
  }

  private create(c: Req): void {
    const rev = this.s.mvcc.revision;
    let id = int(c.watch_id);
    if (id === 0 || this.watchers.has(id)) {
      if (id !== 0 && this.watchers.has(id)) {
        // etcd: a duplicate requested id fails the create.
        this.send({ header: this.s.header(), watch_id: id, created: true, canceled: true, cancel_reason: 'etcdserver: mvcc: watcher ID exists' });
        return;
      }
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    }
    const filters: string[] = (c.filters as string[]) ?? [];
    const start = int(c.start_revision);
    const w: Watcher = {
      id,
      key: str(c.key),
      end: str(c.range_end),
      noPut: filters.includes('NOPUT'),
      noDelete: filters.includes('NODELETE'),
      prevKv: c.prev_kv === true,
      progressNotify: c.progress_notify === true,
      nextRev: start > 0 ? start : rev + 1,
      sentSinceProgress: false,
    };
    this.send({ header: this.s.header(rev), watch_id: id, created: true });
    if (w.nextRev <= rev) {
      let history;
      try {
        history = this.s.mvcc.eventsSince(w.nextRev);
      } catch {
        this.send({ header: this.s.header(rev), watch_id: id, canceled: true, compact_revision: this.s.mvcc.compactRevision, cancel_reason: 'etcdserver: mvcc: required revision has been compacted' });
        return;
      }
      const out: unknown[] = [];
      for (const h of history) for (const e of h.events) if (this.matches(w, e)) out.push(this.toWire(w, e));
      w.nextRev = rev + 1;
      if (out.length > 0) this.sendEvents(w, rev, out);
    }
    this.watchers.set(id, w);
  }

  private onEvents(rev: number, evs: MvccEvent[]): void {
    for (const w of this.watchers.values()) {
      if (rev < w.nextRev) continue;
      w.nextRev = rev + 1;
      const out: unknown[] = [];
      for (const e of evs) if (this.matches(w, e)) out.push(this.toWire(w, e));
      if (out.length > 0) this.sendEvents(w, rev, out);
    }
  }

  private sendEvents(w: Watcher, rev: number, events: unknown[]): void {
    w.sentSinceProgress = true;
    const CHUNK = 1000;
    for (let i = 0; i < events.length; i += CHUNK) {
      this.send({ header: this.s.header(rev), watch_id: w.id, events: events.slice(i, i + CHUNK) });
    }
  }

  private matches(w: Watcher, e: MvccEvent): boolean {
    if (e.type === 'PUT' ? w.noPut : w.noDelete) return false;
    const k = e.kv.key.toString('latin1');
    if (w.end === '') return k === w.key;
    if (w.end === '\0') return k >= w.key;
    return k >= w.key && k < w.end;
  }

  private toWire(w: Watcher, e: MvccEvent): unknown {
    return w.prevKv && e.prev_kv ? { type: e.type, kv: e.kv, prev_kv: e.prev_kv } : { type: e.type, kv: e.kv };
  }

  private progress(): void {
    for (const w of this.watchers.values()) {
      if (w.progressNotify && !w.sentSinceProgress) this.send({ header: this.s.header(), watch_id: w.id });
      w.sentSinceProgress = false;
    }
  }

  private close(graceful: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.progressTimer);
    this.watchers.clear();
    if (graceful) {
      try {
        this.call.end();
      } catch {
        /* already closed */
      }
    }
  }
}

export type { KeyValue };
