/**
 * A thin etcd v3 gRPC client for benchmarks, loaded from Coxswain's own
 * store/proto/etcd.proto. The same code drives Debian's etcd and Coxswain's
 * store, so both sides pay the same client cost. No retries, no failover:
 * every error is counted by the caller.
 */
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR } from '../../store/proto';

/** The fields of etcd's messages the benchmarks read (int64s arrive as strings: `longs: String`). */
export interface KeyValue {
  key: Buffer;
  value: Buffer;
  mod_revision: string;
}
export interface ResponseHeader {
  revision: string;
  member_id: string;
}
export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  count: string;
}
export interface PutResponse {
  header: ResponseHeader;
}
export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: { response_range?: RangeResponse }[];
}
export interface WatchEvent {
  /** The enum's name or number, depending on the loader's `enums` option. */
  type: string | number;
  kv: KeyValue;
}
export interface WatchResponse {
  created?: boolean;
  canceled?: boolean;
  cancel_reason?: string;
  events?: WatchEvent[];
}
export interface StatusResponse {
  header: ResponseHeader;
  leader: string;
  version?: string;
  dbSize?: string;
}

export type UnaryCallback = (err: grpc.ServiceError | null, resp: unknown) => void;
/** A stub whose unary methods are looked up by name (proto-loader builds them at run time). */
export type Svc = grpc.Client & Record<string, (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: UnaryCallback) => void>;
export type WatchSvc = grpc.Client & { Watch(md: grpc.Metadata): grpc.ClientDuplexStream<unknown, WatchResponse> };
type Services = Record<'KV' | 'Watch' | 'Maintenance' | 'Cluster', grpc.ServiceClientConstructor>;

let pkg: Services | undefined;
function proto(): Services {
  if (!pkg) {
    const def = protoLoader.loadSync(path.join(PROTO_DIR, 'etcd.proto'), {
      keepCase: true, longs: String, bytes: Buffer, defaults: true, oneofs: true, includeDirs: [PROTO_DIR],
    });
    pkg = grpc.loadPackageDefinition(def).etcdserverpb as unknown as Services;
  }
  return pkg;
}

/** One HTTP/2 connection to one member, with KV, Watch, Maintenance and Cluster stubs on it. */
export class EtcdConn {
  readonly kv: Svc;
  readonly watchSvc: WatchSvc;
  readonly maint: Svc;
  readonly cluster: Svc;

  constructor(readonly target: string) {
    const p = proto();
    const creds = grpc.credentials.createInsecure();
    // A private subchannel pool so several EtcdConn to the same target are distinct TCP connections.
    const opts: grpc.ChannelOptions = { 'grpc.use_local_subchannel_pool': 1, 'grpc.max_receive_message_length': 64 * 1024 * 1024 };
    this.kv = new p.KV(target, creds, opts) as Svc;
    const channelOverride = this.kv.getChannel();
    this.watchSvc = new p.Watch(target, creds, { ...opts, channelOverride }) as unknown as WatchSvc;
    this.maint = new p.Maintenance(target, creds, { ...opts, channelOverride }) as Svc;
    this.cluster = new p.Cluster(target, creds, { ...opts, channelOverride }) as Svc;
  }

  /** Calls `method` on `svc`; the caller names the response type (the message etcd.proto declares for it). */
  unary<T>(svc: Svc, method: string, req: unknown, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      svc[method](req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, resp) => (err ? reject(err) : resolve(resp as T)));
    });
  }

  put(key: Buffer, value: Buffer, timeoutMs = 10_000): Promise<PutResponse> {
    return this.unary<PutResponse>(this.kv, 'Put', { key, value }, timeoutMs);
  }

  range(key: Buffer, serializable: boolean, timeoutMs = 10_000): Promise<RangeResponse> {
    return this.unary<RangeResponse>(this.kv, 'Range', { key, serializable }, timeoutMs);
  }

  /** Put `value` at `key` if its mod_revision still equals `modRevision`; else read it back. */
  casPut(key: Buffer, value: Buffer, modRevision: string, timeoutMs = 10_000): Promise<TxnResponse> {
    return this.unary<TxnResponse>(this.kv, 'Txn', {
      compare: [{ result: 'EQUAL', target: 'MOD', key, mod_revision: modRevision }],
      success: [{ request_put: { key, value } }],
      failure: [{ request_range: { key } }],
    }, timeoutMs);
  }

  status(timeoutMs = 2_000): Promise<{ memberId: string; leader: string; version: string; dbSize: string }> {
    return this.unary<StatusResponse>(this.maint, 'Status', {}, timeoutMs).then((r) => ({ memberId: String(r.header.member_id), leader: String(r.leader), version: String(r.version ?? ''), dbSize: String(r.dbSize ?? '') }));
  }

  memberList(timeoutMs = 2_000): Promise<{ id: string; name: string; clientURLs: string[] }[]> {
    return this.unary<{ members: { ID: string; name: string; clientURLs: string[] }[] }>(this.cluster, 'MemberList', {}, timeoutMs).then((r) => r.members.map((m) => ({ id: String(m.ID), name: m.name, clientURLs: m.clientURLs })));
  }

  /** Opens a watch on a key prefix; `onEvents` gets every batch of events with the arrival time. */
  watchPrefix(prefix: Buffer, onEvents: (events: WatchEvent[], atMs: number) => void): Promise<{ cancel(): void }> {
    const end = Buffer.from(prefix);
    end[end.length - 1]++;
    const call = this.watchSvc.Watch(new grpc.Metadata());
    return new Promise((resolve, reject) => {
      let created = false;
      call.on('data', (resp: WatchResponse) => {
        const at = performance.now();
        if (resp.created && !created) {
          created = true;
          resolve({ cancel: () => { try { call.cancel(); } catch { /* gone */ } } });
        }
        if (resp.events?.length) onEvents(resp.events, at);
      });
      call.on('error', (err: Error) => { if (!created) reject(err); });
      call.write({ create_request: { key: prefix, range_end: end } });
    });
  }

  close(): void {
    this.kv.close();
  }
}

/**
 * Finds the leader of a cluster given its client endpoints ("127.0.0.1:port"):
 * asks every member for Maintenance.Status, and returns the endpoint whose own
 * member id is the leader every member reports. Undefined while there is none.
 */
export async function findLeader(endpoints: string[]): Promise<{ endpoint: string; memberId: string; version: string } | undefined> {
  const conns = endpoints.map((e) => new EtcdConn(e));
  try {
    const st = await Promise.all(conns.map((c) => c.status()));
    const leaders = new Set(st.map((s) => s.leader));
    if (leaders.size !== 1 || leaders.has('0')) return undefined;
    const i = st.findIndex((s) => s.memberId === s.leader);
    if (i < 0) return undefined;
    // Cross-check with MemberList (what etcd's benchmark --target-leader does).
    const members = await conns[i].memberList();
    if (!members.some((m) => m.id === st[i].memberId)) return undefined;
    return { endpoint: endpoints[i], memberId: st[i].memberId, version: st[i].version };
  } catch {
    return undefined;
  } finally {
    for (const c of conns) c.close();
  }
}
