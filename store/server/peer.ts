import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR } from '../proto';
import type { Entry, Message, MessageType, NodeId, SnapshotMeta } from '../raft/types';
import { EtcdError, etcdErrorByMessage } from '../errors';
import { entryArena } from '../mvcc/commands';
import type { Logger } from '../../lib/log';

/**
 * Peer transport over gRPC (store/proto/peer.proto).
 *
 * - Raft messages: one long-lived client stream (`Stream`) per peer, opened on
 *   demand and re-opened after a failure; each write is the batch of messages one
 *   Ready produced for that peer, sent at once (the client socket has TCP_NODELAY,
 *   so a lone append or heartbeat is not held back). While the stream's buffer is
 *   full, messages queue (bounded; the oldest are dropped: Raft retransmits).
 * - Snapshots (InstallSnapshot, §7) go out of band on their own `Snapshot` call,
 *   in 1 MiB chunks, one at a time per peer; the outcome is reported back to the
 *   core (`onSnapshotReport`), which re-sends after a failure.
 * - Followers forward proposals, read-index requests, lease queries and
 *   membership changes to the leader with unary calls.
 */

export interface PeerHandler {
  onMessages(msgs: Message[]): void;
  propose(commands: Buffer[]): Promise<number>;
  readIndex(): Promise<number>;
  leaseQuery(id: string, keepAlive: boolean): Promise<{ found: boolean; ttl: number; grantedTTL: number }>;
  /** A snapshot arrived from the leader: make it durable (step 1 of the snapshot protocol, raft-disk.ts), then step `m`. */
  receiveSnapshot(m: Message, data: Buffer): Promise<void>;
  /** Leader: propose an encoded ConfChange, resolve with its index once applied here. */
  confChange(data: Buffer): Promise<number>;
  /** The cluster's members as JSON (for a member joining with --initial-cluster-state existing). */
  membersJson(): string;
  /** Whether `id` was removed from the cluster: its messages are refused with REMOVED_DETAILS so it learns and stops (etcd does the same). */
  isRemoved(id: NodeId): boolean;
}

/** Error text a member gets from peers once it has been removed from the cluster. */
const REMOVED_DETAILS = 'coxswain store: the member has been permanently removed from the cluster';

/** Where a leader's transport reads the snapshot to send (the one in force). */
export type SnapshotSource = () => Promise<{ meta: SnapshotMeta; data: Buffer } | undefined>;

const MESSAGE_TYPES = new Set<MessageType>(['App', 'AppResp', 'Vote', 'VoteResp', 'PreVote', 'PreVoteResp', 'Heartbeat', 'HeartbeatResp', 'Snap', 'TimeoutNow']);
const MAX_QUEUE = 4096;
const SNAPSHOT_CHUNK = 1024 * 1024;
/** Largest snapshot a member accepts (it is held in memory while received). */
const MAX_SNAPSHOT_BYTES = 2 * 1024 * 1024 * 1024 - 1;
/** Peer messages may carry large appends (up to the core's byte limit per message) and snapshot chunks. */
export const PEER_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

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
    // A copy: the decoded bytes are a slice of the whole received chunk, which the
    // in-memory log would otherwise keep alive until compaction (arena.ts).
    entries.push({ term, index, type: e.type, data: entryArena.copy(e.data) });
  }
  const [term, logTerm, index, commit, rejectHint, context] = fields as number[];
  const msg: Message = { type, to: m.to, from: m.from, term, logTerm, index, entries, commit, reject: m.reject === true, rejectHint, context };
  if (type === 'Snap') {
    const sm = m.snapshot as Record<string, unknown> | null;
    const si = num(sm?.index);
    const st = num(sm?.term);
    const voters = sm?.voters;
    if (si === undefined || st === undefined || !Array.isArray(voters) || !voters.every((v) => typeof v === 'string')) return undefined;
    msg.snapshot = { meta: { index: si, term: st, voters: voters as string[] }, data: new Uint8Array(0) };
  }
  return msg;
}

/** A core message as the wire object (the snapshot's data never travels inside a Message). */
function toWire(m: Message): Record<string, unknown> {
  if (!m.snapshot) return m as unknown as Record<string, unknown>;
  const { snapshot, ...rest } = m;
  return { ...rest, snapshot: { index: snapshot.meta.index, term: snapshot.meta.term, voters: snapshot.meta.voters } };
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
    Stream(call: grpc.ServerReadableStream<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) {
      let refused = false;
      call.on('data', (batch: Record<string, unknown>) => {
        if (refused) return;
        if (wrongCluster(batch.cluster)) {
          refused = true;
          cb(refuse);
          return;
        }
        const msgs: Message[] = [];
        for (const raw of (batch.messages as Record<string, unknown>[]) ?? []) {
          const m = fromWire(raw);
          if (m && m.type !== 'Snap') msgs.push(m);
          else log.warn('dropping malformed raft message from peer');
        }
        if (msgs.length > 0 && handler.isRemoved(msgs[0].from)) {
          refused = true;
          cb({ code: grpc.status.FAILED_PRECONDITION, details: REMOVED_DETAILS });
          return;
        }
        try {
          if (msgs.length > 0) handler.onMessages(msgs);
        } catch (e) {
          log.warn({ err: (e as Error).message }, 'peer message rejected');
        }
      });
      call.on('end', () => {
        if (!refused) cb(null, {});
      });
      call.on('error', () => {});
    },
    Snapshot(call: grpc.ServerReadableStream<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) {
      let msg: Message | undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      let failed: Partial<grpc.StatusObject> | undefined;
      call.on('data', (c: Record<string, unknown>) => {
        if (failed) return;
        if (wrongCluster(c.cluster)) failed = refuse;
        else if (!msg) {
          msg = c.message ? fromWire(c.message as Record<string, unknown>) : undefined;
          if (!msg || msg.type !== 'Snap') failed = { code: grpc.status.INVALID_ARGUMENT, details: 'coxswain store: snapshot stream must start with a Snap message' };
        }
        if (!failed && Buffer.isBuffer(c.data) && c.data.length > 0) {
          size += c.data.length;
          if (size > MAX_SNAPSHOT_BYTES) failed = { code: grpc.status.RESOURCE_EXHAUSTED, details: 'coxswain store: snapshot too large' };
          else chunks.push(c.data);
        }
      });
      call.on('end', () => {
        if (failed) return cb(failed);
        if (!msg) return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'coxswain store: empty snapshot stream' });
        handler.receiveSnapshot(msg, Buffer.concat(chunks, size)).then(() => cb(null, {}), (e) => cb(toGrpcError(e)));
      });
      call.on('error', () => {
        failed = { code: grpc.status.CANCELLED, details: 'cancelled' };
      });
    },
    ConfChange(call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) {
      if (wrongCluster(call.request.cluster)) return cb(refuse);
      const data = call.request.data;
      if (!Buffer.isBuffer(data)) return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'bad conf change' });
      handler.confChange(data).then((index) => cb(null, { index }), (e) => cb(toGrpcError(e)));
    },
    Members(call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) {
      // Answered to anyone who can reach the peer port (like etcd's /members): it is how a new member finds its id.
      cb(null, { cluster: clusterId, members: handler.membersJson() });
    },
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

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

interface PeerConn {
  addr: string;
  client: Client;
  stream: grpc.ClientWritableStream<unknown> | undefined;
  /** The stream's buffer is full; wait for 'drain'. */
  blocked: boolean;
  queue: Message[];
  failures: number;
  snapshotInFlight: boolean;
}

/** A channel to the peer at `addr`: plain, or TLS with our peer certificate as client certificate (tls.ts). */
function newClient(addr: string, creds: grpc.ChannelCredentials): Client {
  const Ctor = peerService();
  // grpc-js sets TCP_NODELAY on the TCP socket before any TLS handshake, and sends
  // `:authority: host:port` (never a scheme), so the TLS path behaves as the plain one.
  return new Ctor(addr, creds, {
    'grpc.max_receive_message_length': PEER_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': PEER_MAX_MESSAGE_BYTES,
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 1000,
    // Notice a silently dead peer (no RST) within seconds.
    'grpc.keepalive_time_ms': 5000,
    'grpc.keepalive_timeout_ms': 5000,
    'grpc.keepalive_permit_without_calls': 1,
    // Raft retransmits by itself, and a forwarded proposal must not be re-sent behind
    // our back; grpc-js's retry layer would also buffer every stream message.
    'grpc.enable_retries': 0,
    'grpc.enable_channelz': 0,
  }) as Client;
}

/** Outgoing side: one gRPC channel and one message stream per peer. */
export class PeerClients {
  private conns = new Map<NodeId, PeerConn>();
  private closed = false;

  constructor(
    peers: Map<NodeId, string>, // id -> host:port
    private readonly clusterId: string,
    private readonly log: Logger,
    private readonly snapshotSource: SnapshotSource = async () => undefined,
    private readonly onSnapshotReport: (to: NodeId, ok: boolean) => void = () => {},
    private readonly onRemoved: () => void = () => {},
    private readonly credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    this.setPeers(peers);
  }

  /** Make the set of peers exactly `peers` (membership changed): new ones get a channel, removed ones are closed. */
  setPeers(peers: Map<NodeId, string>): void {
    for (const [id, c] of this.conns) {
      if (peers.get(id) === c.addr) continue;
      c.stream?.cancel();
      c.client.close();
      this.conns.delete(id);
    }
    for (const [id, addr] of peers) {
      if (this.conns.has(id)) continue;
      this.conns.set(id, { addr, client: newClient(addr, this.credentials), stream: undefined, blocked: false, queue: [], failures: 0, snapshotInFlight: false });
    }
  }

  send(msgs: Message[]): void {
    if (this.closed) return;
    const touched = new Set<NodeId>();
    for (const m of msgs) {
      const c = this.conns.get(m.to);
      if (!c) continue;
      if (m.type === 'Snap') {
        this.sendSnapshot(m.to, c, m);
        continue;
      }
      if (c.queue.length >= MAX_QUEUE) c.queue.shift(); // drop oldest; Raft recovers
      c.queue.push(m);
      touched.add(m.to);
    }
    for (const id of touched) this.flush(id, this.conns.get(id)!);
  }

  private flush(id: NodeId, c: PeerConn): void {
    if (c.blocked || c.queue.length === 0 || this.closed) return;
    if (!c.stream) this.openStream(id, c);
    const batch = c.queue;
    c.queue = [];
    const stream = c.stream!;
    if (!stream.write({ cluster: this.clusterId, messages: batch.map(toWire) })) {
      c.blocked = true;
      stream.once('drain', () => {
        c.blocked = false;
        if (c.stream === stream) this.flush(id, c);
      });
    }
  }

  private openStream(id: NodeId, c: PeerConn): void {
    const stream = c.client.Stream((err: grpc.ServiceError | null) => {
      if (c.stream === stream) {
        c.stream = undefined;
        c.blocked = false;
      }
      if (err?.details === REMOVED_DETAILS) {
        this.onRemoved();
        return;
      }
      if (err && err.code !== grpc.status.CANCELLED) {
        c.failures++;
        if (c.failures === 1 || c.failures % 100 === 0) this.log.debug({ peer: id, err: err.message, failures: c.failures }, 'peer stream failed');
      }
    }) as grpc.ClientWritableStream<unknown>;
    stream.on('error', () => {});
    stream.on('metadata', () => {
      if (c.failures > 0) this.log.info({ peer: id }, 'peer reachable');
      c.failures = 0;
    });
    c.stream = stream;
  }

  /** Stream the snapshot in force to `to`; report the outcome to the core. One at a time per peer. */
  private sendSnapshot(to: NodeId, c: PeerConn, m: Message): void {
    if (c.snapshotInFlight) return;
    c.snapshotInFlight = true;
    const run = async (): Promise<void> => {
      const src = await this.snapshotSource();
      if (!src) throw new Error('no snapshot to send');
      const msg = toWire({ ...m, snapshot: { meta: src.meta, data: new Uint8Array(0) } });
      const deadline = Date.now() + 30_000 + Math.ceil(src.data.length / (1024 * 1024)) * 1000;
      await new Promise<void>((resolve, reject) => {
        const call = c.client.Snapshot({ deadline }, (err: grpc.ServiceError | null) => (err ? reject(err) : resolve())) as grpc.ClientWritableStream<unknown>;
        call.write({ cluster: this.clusterId, message: msg });
        for (let off = 0; off < src.data.length; off += SNAPSHOT_CHUNK) {
          call.write({ cluster: this.clusterId, data: src.data.subarray(off, off + SNAPSHOT_CHUNK) });
        }
        call.end();
      });
      this.log.info({ peer: to, index: src.meta.index, bytes: src.data.length }, 'sent snapshot');
    };
    run().then(
      () => {
        c.snapshotInFlight = false;
        this.onSnapshotReport(to, true);
      },
      (e: Error) => {
        c.snapshotInFlight = false;
        this.log.warn({ peer: to, err: e.message }, 'sending snapshot failed');
        this.onSnapshotReport(to, false);
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

  async confChange(to: NodeId, data: Buffer, timeoutMs: number): Promise<number> {
    const r = await this.unary<{ index: number }>(to, 'ConfChange', { data }, timeoutMs);
    return r.index;
  }

  close(): void {
    this.closed = true;
    for (const c of this.conns.values()) {
      c.stream?.cancel();
      c.client.close();
    }
  }
}

/** Ask the member at `addr` (host:port of its peer URL) for the cluster id and member list. */
export function fetchMembers(addr: string, timeoutMs: number, creds = grpc.credentials.createInsecure()): Promise<{ cluster: string; members: unknown[] }> {
  const client = newClient(addr, creds);
  return new Promise((resolve, reject) => {
    client.Members({ cluster: '' }, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: { cluster: string; members: string }) => {
      client.close();
      if (err) return reject(new Error(`cannot reach ${addr}: ${err.details || err.message}`));
      try {
        resolve({ cluster: res.cluster, members: JSON.parse(res.members) as unknown[] });
      } catch {
        reject(new Error(`bad member list from ${addr}`));
      }
    });
  });
}

/** A gRPC error from a peer, as an Error carrying the same code and text. */
function wireError(err: grpc.ServiceError): Error {
  const e = new Error(err.details) as Error & { grpcCode: number };
  e.grpcCode = err.code;
  return e;
}
