import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR } from '../proto';
import type { Entry, Message, MessageType, NodeId } from '../raft/types';
import { EtcdError, etcdErrorByMessage } from '../errors';
import type { Logger } from '../../lib/log';

/**
 * Peer transport over gRPC (store/proto/peer.proto). Outgoing Raft messages are
 * queued per peer and sent as batches with a few Sends in flight per peer
 * (batches grow under load). Messages to an unreachable peer are
 * dropped after a bounded queue: Raft retries on its own.
 */

export interface PeerHandler {
  onMessages(msgs: Message[]): void;
  propose(commands: Buffer[]): Promise<number>;
  readIndex(): Promise<number>;
  leaseQuery(id: string, keepAlive: boolean): Promise<{ found: boolean; ttl: number; grantedTTL: number }>;
}

const MESSAGE_TYPES = new Set<MessageType>(['App', 'AppResp', 'Vote', 'VoteResp', 'PreVote', 'PreVoteResp', 'Heartbeat', 'HeartbeatResp']);
const MAX_QUEUE = 4096;
/** Concurrent Send RPCs per peer (1 keeps order; Raft would tolerate reordering). A later stage moves to one stream per peer. */
const MAX_IN_FLIGHT = 1;
const RPC_DEADLINE_MS = 5000;

let peerPkg: grpc.GrpcObject | undefined;
function loadPeer(): grpc.GrpcObject {
  if (!peerPkg) {
    const def = protoLoader.loadSync(path.join(PROTO_DIR, 'peer.proto'), {
      keepCase: true,
      longs: Number,
      enums: String,
      bytes: Buffer,
      defaults: true,
    });
    peerPkg = grpc.loadPackageDefinition(def);
  }
  return peerPkg;
}

function peerService(): grpc.ServiceClientConstructor {
  const p = loadPeer() as unknown as { coxswain: { store: { peer: { Peer: grpc.ServiceClientConstructor } } } };
  return p.coxswain.store.peer.Peer;
}

/** Validate and convert a decoded wire message; undefined if malformed. */
function fromWire(m: Record<string, unknown>): Message | undefined {
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
  const type = m.type as MessageType;
  if (!MESSAGE_TYPES.has(type) || typeof m.to !== 'string' || typeof m.from !== 'string') return undefined;
  const fields = ['term', 'logTerm', 'index', 'commit', 'rejectHint', 'context'].map((k) => num(m[k]));
  if (fields.some((f) => f === undefined)) return undefined;
  const entries: Entry[] = [];
  for (const e of (m.entries as Record<string, unknown>[]) ?? []) {
    const term = num(e.term);
    const index = num(e.index);
    if (term === undefined || index === undefined || (e.type !== 'Normal' && e.type !== 'ConfChange') || !Buffer.isBuffer(e.data)) return undefined;
    entries.push({ term, index, type: e.type, data: e.data });
  }
  const [term, logTerm, index, commit, rejectHint, context] = fields as number[];
  return { type, to: m.to, from: m.from, term, logTerm, index, entries, commit, reject: m.reject === true, rejectHint, context };
}

function toGrpcError(e: unknown): Partial<grpc.StatusObject> {
  if (e instanceof EtcdError) return { code: e.code, details: e.message };
  return { code: grpc.status.INTERNAL, details: (e as Error)?.message ?? String(e) };
}

/** Register the Peer service on `server`, answering only members of `clusterId`. */
export function addPeerService(server: grpc.Server, clusterId: string, handler: PeerHandler, log: Logger): void {
  const wrongCluster = (c: unknown): boolean => c !== clusterId;
  const refuse = { code: grpc.status.FAILED_PRECONDITION, details: 'coxswain store: request from a member of another cluster' };
  server.addService(peerService().service, {
    Send(call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) {
      try {
        if (wrongCluster(call.request.cluster)) return cb(refuse);
        const msgs: Message[] = [];
        for (const raw of (call.request.messages as Record<string, unknown>[]) ?? []) {
          const m = fromWire(raw);
          if (m) msgs.push(m);
          else log.warn('dropping malformed raft message from peer');
        }
        if (msgs.length > 0) handler.onMessages(msgs);
        cb(null, {});
      } catch (e) {
        cb(toGrpcError(e));
      }
    },
    Propose(call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) {
      if (wrongCluster(call.request.cluster)) return cb(refuse);
      const cmds = ((call.request.commands as Buffer[]) ?? []).filter((b) => Buffer.isBuffer(b));
      handler.propose(cmds).then((index) => cb(null, { index }), (e) => cb(toGrpcError(e)));
    },
    ReadIndex(call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) {
      if (wrongCluster(call.request.cluster)) return cb(refuse);
      handler.readIndex().then((index) => cb(null, { index }), (e) => cb(toGrpcError(e)));
    },
    LeaseQuery(call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) {
      if (wrongCluster(call.request.cluster)) return cb(refuse);
      const id = String(call.request.id ?? '0');
      if (!/^-?\d+$/.test(id)) return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'bad lease id' });
      handler.leaseQuery(id, call.request.keepAlive === true).then((r) => cb(null, r), (e) => cb(toGrpcError(e)));
    },
  });
}

interface PeerConn {
  client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  queue: Message[];
  inFlight: number;
  failures: number;
}

/** Outgoing side: one gRPC channel per peer. */
export class PeerClients {
  private conns = new Map<NodeId, PeerConn>();

  constructor(
    peers: Map<NodeId, string>, // id -> host:port
    private readonly clusterId: string,
    private readonly log: Logger,
  ) {
    const Ctor = peerService();
    for (const [id, addr] of peers) {
      const client = new Ctor(addr, grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        'grpc.max_send_message_length': 64 * 1024 * 1024,
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      }) as PeerConn['client'];
      this.conns.set(id, { client, queue: [], inFlight: 0, failures: 0 });
    }
  }

  send(msgs: Message[]): void {
    for (const m of msgs) {
      const c = this.conns.get(m.to);
      if (!c) continue;
      if (c.queue.length >= MAX_QUEUE) c.queue.shift(); // drop oldest; Raft recovers
      c.queue.push(m);
    }
    for (const [id, c] of this.conns) if (c.inFlight < MAX_IN_FLIGHT && c.queue.length > 0) this.flush(id, c);
  }

  private flush(id: NodeId, c: PeerConn): void {
    const batch = c.queue;
    c.queue = [];
    c.inFlight++;
    c.client.Send(
      { cluster: this.clusterId, messages: batch },
      { deadline: Date.now() + RPC_DEADLINE_MS },
      (err: grpc.ServiceError | null) => {
        c.inFlight--;
        if (err) {
          c.failures++;
          if (c.failures === 1 || c.failures % 100 === 0) this.log.debug({ peer: id, err: err.message, failures: c.failures }, 'peer send failed');
          // Drop the batch; anything queued meanwhile is still tried.
        } else {
          if (c.failures > 0) this.log.info({ peer: id }, 'peer reachable');
          c.failures = 0;
        }
        if (c.queue.length > 0 && c.inFlight < MAX_IN_FLIGHT) this.flush(id, c);
      },
    );
  }

  private unary<T>(to: NodeId, method: string, req: Record<string, unknown>, timeoutMs: number): Promise<T> {
    const c = this.conns.get(to);
    if (!c) return Promise.reject(new EtcdError('NoLeader'));
    return new Promise((resolve, reject) => {
      c.client[method]({ cluster: this.clusterId, ...req }, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: T) => {
        if (!err) return resolve(res);
        // Re-raise the leader's etcd error unchanged when it is one of ours.
        const known = etcdErrorByMessage(err.details);
        if (known) return reject(known);
        if (err.code === grpc.status.DEADLINE_EXCEEDED) return reject(new EtcdError('Timeout'));
        if (err.code === grpc.status.UNAVAILABLE) return reject(new EtcdError('NoLeader'));
        reject(wireError(err));
      });
    });
  }

  async propose(to: NodeId, commands: Buffer[], timeoutMs: number): Promise<number> {
    const r = await this.unary<{ index: number }>(to, 'Propose', { commands }, timeoutMs);
    return r.index;
  }

  async readIndex(to: NodeId, timeoutMs: number): Promise<number> {
    const r = await this.unary<{ index: number }>(to, 'ReadIndex', {}, timeoutMs);
    return r.index;
  }

  leaseQuery(to: NodeId, id: string, keepAlive: boolean, timeoutMs: number): Promise<{ found: boolean; ttl: number; grantedTTL: number }> {
    return this.unary(to, 'LeaseQuery', { id, keepAlive }, timeoutMs);
  }

  close(): void {
    for (const c of this.conns.values()) c.client.close();
  }
}

/** A gRPC error from a peer, as an Error carrying the same code and text. */
function wireError(err: grpc.ServiceError): Error {
  const e = new Error(err.details) as Error & { grpcCode: number };
  e.grpcCode = err.code;
  return e;
}
