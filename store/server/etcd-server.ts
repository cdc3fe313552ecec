import { randomBytes } from 'node:crypto';
import { Raft } from '../raft/raft';
import { seededRng } from '../raft/rng';
import { type Entry, type Message, NONE, type NodeId, type ReadState, type SoftState } from '../raft/types';
import { Mvcc, type ApplyResult } from '../mvcc/mvcc';
import { type Command, decodeCommand, encodeCommand, type Op, type RangeOp } from '../mvcc/commands';
import { EtcdError } from '../errors';
import type { RaftDisk, LoadedState } from '../disk/raft-disk';
import { RaftNode } from './raft-node';
import type { PeerClients, PeerHandler } from './peer';
import type { Logger } from '../../lib/log';
import { hexToDec } from './ids';

export interface MemberInfo {
  /** Raft node id: the member id as 16 hex digits. */
  idHex: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

export interface EtcdServerOptions {
  self: MemberInfo;
  members: MemberInfo[];
  clusterIdHex: string;
  disk: RaftDisk;
  loaded: LoadedState;
  tickMs: number;
  electionTick: number;
  heartbeatTick: number;
  requestTimeoutMs?: number;
  log: Logger;
}

export interface Header {
  cluster_id: string;
  member_id: string;
  revision: number;
  raft_term: number;
}

/** Leases shorter than this are raised to it (etcd: 1.5 election timeouts, in whole seconds). */
const MAX_LEASE_TTL = 9_000_000_000;

/**
 * One store member: the Raft driver, the MVCC state machine, client request
 * plumbing (proposal waiters, linearizable reads, forwarding to the leader) and
 * the leader-local lease clock. gRPC adapters (grpc-api.ts, peer.ts) call in here.
 */
export class EtcdServer implements PeerHandler {
  readonly mvcc = new Mvcc();
  readonly node: RaftNode;
  readonly self: MemberInfo;
  readonly clusterIdHex: string;
  readonly members = new Map<string, MemberInfo>();
  appliedIndex = 0;
  private peers: PeerClients | undefined;
  private readonly log: Logger;
  private readonly disk: RaftDisk;
  private readonly requestTimeoutMs: number;
  private readonly electionMs: number;
  readonly minLeaseTtl: number;
  private readonly bootNonce = randomBytes(4).toString('hex');
  private seq = 0;
  private waiters = new Map<string, { done: (r: ApplyResult | Error) => void }>();
  /** Log index at which the leader accepted each waiting request (to detect overwritten proposals early). */
  private expectAt = new Map<number, string>();
  private appliedWaiters: { index: number; resolve: () => void }[] = [];
  private readCtx = 0;
  private readWaiters = new Map<number, { resolve: (i: number) => void; reject: (e: Error) => void }>();
  private readBatch: Promise<number> | undefined;
  private leaderWaiters: (() => void)[] = [];
  /** Leader only: lease id -> expiry (ms since epoch). */
  private leaseExpiry = new Map<string, number>();
  private revoking = new Set<string>();
  private leaseTimer: NodeJS.Timeout;
  private published = false;
  private stopped = false;
  onFatal: (e: Error) => void = () => {};

  constructor(opts: EtcdServerOptions) {
    this.self = opts.self;
    this.clusterIdHex = opts.clusterIdHex;
    for (const m of opts.members) this.members.set(m.idHex, { ...m, clientURLs: m.idHex === opts.self.idHex ? opts.self.clientURLs : [] });
    this.log = opts.log;
    this.disk = opts.disk;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5000 + 2 * opts.electionTick * opts.tickMs;
    this.electionMs = opts.electionTick * opts.tickMs;
    this.minLeaseTtl = Math.ceil((1.5 * this.electionMs) / 1000);
    const raft = new Raft({
      id: opts.self.idHex,
      peers: opts.members.map((m) => m.idHex),
      electionTick: opts.electionTick,
      heartbeatTick: opts.heartbeatTick,
      rng: seededRng(randomBytes(4).readUInt32BE(0)),
      preVote: true,
      checkQuorum: true,
      hardState: opts.loaded.hardState,
      entries: opts.loaded.entries,
    });
    this.node = new RaftNode({
      raft,
      tickMs: opts.tickMs,
      log: opts.log,
      io: {
        persist: (hs, ents) => this.disk.save(hs, ents),
        send: (msgs) => this.peers?.send(msgs),
        apply: (ents) => this.applyEntries(ents),
        readStates: (rs) => this.onReadStates(rs),
        softState: (ss) => this.onSoftState(ss),
      },
    });
    this.node.onFatal = (e) => this.onFatal(e);
    this.leaseTimer = setInterval(() => this.expireLeases(), 500);
    this.leaseTimer.unref?.();
  }

  attachPeers(peers: PeerClients): void {
    this.peers = peers;
  }

  // ------------------------------------------------------------ status

  get term(): number {
    return this.node.raft.term;
  }

  get leaderHex(): NodeId {
    return this.node.raft.lead;
  }

  isLeader(): boolean {
    return this.node.raft.state === 'Leader';
  }

  header(revision = this.mvcc.revision): Header {
    return { cluster_id: hexToDec(this.clusterIdHex), member_id: hexToDec(this.self.idHex), revision, raft_term: this.term };
  }

  // ------------------------------------------------------------ writes

  /**
   * Replicate `op` and resolve with its result as applied on THIS member (so a
   * client that reads from this member next sees its own write).
   */
  async write(op: Op): Promise<ApplyResult> {
    if (this.stopped) throw new EtcdError('Stopped');
    const id = `${this.self.idHex}-${this.bootNonce}-${++this.seq}`;
    const data = encodeCommand({ id, op } satisfies Command);
    return new Promise<ApplyResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new EtcdError('Timeout'));
      }, this.requestTimeoutMs);
      this.waiters.set(id, {
        done: (r) => {
          clearTimeout(timer);
          this.waiters.delete(id);
          if (r instanceof Error) reject(r);
          else resolve(r);
        },
      });
      this.submit(data).then(
        (index) => {
          if (this.waiters.has(id) && index > this.appliedIndex) this.expectAt.set(index, id);
        },
        (e: Error) => {
          clearTimeout(timer);
          this.waiters.delete(id);
          reject(e);
        },
      );
    });
  }

  /** Append to the leader's log: locally if we lead, else forwarded. Resolves with the entry's index. */
  private async submit(data: Buffer): Promise<number> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const lead = await this.awaitLeader();
      if (lead === this.self.idHex) {
        const index = await this.node.propose([data]);
        if (index > 0) return index;
        continue; // lost leadership meanwhile; try the new leader
      }
      return this.peers!.propose(lead, [data], this.requestTimeoutMs);
    }
    throw new EtcdError('LeaderChanged');
  }

  /** The current leader, waiting up to one election timeout for one to appear. */
  private async awaitLeader(): Promise<NodeId> {
    if (this.leaderHex !== NONE) return this.leaderHex;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, this.electionMs * 2);
      const waiter = (): void => done();
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.leaderWaiters.push(waiter);
    });
    if (this.leaderHex === NONE) throw new EtcdError('NoLeader');
    return this.leaderHex;
  }

  // PeerHandler: a follower forwarded commands to us.
  async propose(commands: Buffer[]): Promise<number> {
    if (!this.isLeader()) throw new EtcdError(this.leaderHex === NONE ? 'NoLeader' : 'LeaderChanged');
    if (commands.length === 0) return 0;
    const index = await this.node.propose(commands);
    if (index === 0) throw new EtcdError('LeaderChanged');
    return index;
  }

  onMessages(msgs: Message[]): void {
    for (const m of msgs) {
      if (m.to === this.self.idHex && this.members.has(m.from)) this.node.step(m);
    }
  }

  // ------------------------------------------------------------ reads

  /** Serve a Range: linearizable (read index) unless serializable. */
  async range(op: RangeOp, serializable: boolean): Promise<ReturnType<Mvcc['range']>> {
    if (!serializable) await this.readBarrier();
    return this.mvcc.range(op);
  }

  /** Wait until this member has applied everything committed before the call (dissertation §6.4). */
  async readBarrier(): Promise<void> {
    const index = await this.readIndex();
    await this.waitApplied(index);
  }

  /** A confirmed read index; concurrent callers share one confirmation round. */
  readIndex(): Promise<number> {
    if (!this.readBatch) {
      this.readBatch = new Promise<number>((resolve, reject) => {
        setImmediate(() => {
          this.readBatch = undefined;
          this.issueReadIndex().then(resolve, reject);
        });
      });
    }
    return this.readBatch;
  }

  private async issueReadIndex(): Promise<number> {
    const lead = await this.awaitLeader();
    if (lead !== this.self.idHex) return this.peers!.readIndex(lead, this.requestTimeoutMs);
    const ctx = ++this.readCtx;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readWaiters.delete(ctx);
        reject(new EtcdError('Timeout'));
      }, this.requestTimeoutMs);
      this.readWaiters.set(ctx, {
        resolve: (i) => {
          clearTimeout(timer);
          resolve(i);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      if (!this.node.readIndex(ctx)) {
        this.readWaiters.delete(ctx);
        clearTimeout(timer);
        reject(new EtcdError('LeaderChanged'));
      }
    });
  }

  waitApplied(index: number): Promise<void> {
    if (this.appliedIndex >= index) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new EtcdError('Timeout')), this.requestTimeoutMs);
      this.appliedWaiters.push({
        index,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private onReadStates(rs: ReadState[]): void {
    for (const r of rs) {
      const w = this.readWaiters.get(r.ctx);
      if (w) {
        this.readWaiters.delete(r.ctx);
        w.resolve(r.index);
      }
    }
  }

  // ------------------------------------------------------------ apply

  private applyEntries(ents: Entry[]): void {
    for (const e of ents) {
      this.appliedIndex = e.index;
      const expected = this.expectAt.get(e.index);
      let expectedFound = false;
      if (expected !== undefined) this.expectAt.delete(e.index);
      const failExpected = (): void => {
        // Our request was accepted at this index by a leader that lost it: the
        // new leader put something else here. It will never apply; say so now.
        if (expected !== undefined && !expectedFound) this.waiters.get(expected)?.done(new EtcdError('LeaderChanged'));
      };
      if (e.type !== 'Normal' || e.data.byteLength === 0) {
        failExpected();
        continue;
      }
      let cmd: Command;
      try {
        cmd = decodeCommand(e.data);
      } catch {
        // Deterministic on every member: an undecodable entry is skipped everywhere.
        this.log.error({ index: e.index }, 'skipping undecodable log entry');
        failExpected();
        continue;
      }
      expectedFound = expected === cmd.id;
      failExpected();
      const op = cmd.op;
      let result: ApplyResult;
      if (op.type === 'memberAttr') {
        const m = this.members.get(op.memberId);
        if (m) {
          m.name = op.name;
          m.clientURLs = op.clientURLs.slice();
        }
        result = { revision: this.mvcc.revision, response: {} };
      } else {
        result = this.mvcc.apply(op);
      }
      if (!result.error && this.isLeader()) {
        if (op.type === 'leaseGrant') this.leaseExpiry.set(op.id, Date.now() + op.ttl * 1000);
        if (op.type === 'leaseRevoke') {
          this.leaseExpiry.delete(op.id);
          this.revoking.delete(op.id);
        }
      }
      this.waiters.get(cmd.id)?.done(result);
    }
    if (this.appliedWaiters.length > 0) {
      const ready = this.appliedWaiters.filter((w) => w.index <= this.appliedIndex);
      this.appliedWaiters = this.appliedWaiters.filter((w) => w.index > this.appliedIndex);
      for (const w of ready) w.resolve();
    }
  }

  private onSoftState(ss: SoftState): void {
    this.log.info({ leader: ss.lead || null, state: ss.state, term: this.term }, 'raft state changed');
    if (ss.state === 'Leader') {
      // Promote: every lease gets a full TTL from now (etcd's lessor Promote).
      const now = Date.now();
      this.leaseExpiry.clear();
      this.revoking.clear();
      for (const l of this.mvcc.leases.values()) this.leaseExpiry.set(l.id, now + l.ttl * 1000);
    } else {
      this.leaseExpiry.clear();
      this.revoking.clear();
      for (const [ctx, w] of this.readWaiters) {
        this.readWaiters.delete(ctx);
        w.reject(new EtcdError('LeaderChanged'));
      }
    }
    if (ss.lead !== NONE) {
      const ws = this.leaderWaiters;
      this.leaderWaiters = [];
      for (const w of ws) w();
      if (!this.published) this.publish();
    }
  }

  /** Announce our name and client URLs through the log (etcd "publish"), once per start. */
  private publish(): void {
    this.published = true;
    this.write({ type: 'memberAttr', memberId: this.self.idHex, name: this.self.name, clientURLs: this.self.clientURLs }).catch((e) => {
      this.log.debug({ err: (e as Error).message }, 'publish failed; will retry');
      this.published = false;
      setTimeout(() => {
        if (!this.published && this.leaderHex !== NONE && !this.stopped) this.publish();
      }, 1000).unref();
    });
  }

  // ------------------------------------------------------------ leases

  async leaseGrant(ttl: number, id: string): Promise<ApplyResult> {
    if (ttl > MAX_LEASE_TTL) throw new EtcdError('LeaseTTLTooLarge');
    if (id === '0') id = BigInt.asIntN(64, randomBytes(8).readBigUInt64BE(0) & 0x7fffffffffffffffn).toString();
    if (id === '0') id = '1';
    return this.write({ type: 'leaseGrant', id, ttl: Math.max(ttl, this.minLeaseTtl) });
  }

  async leaseRevoke(id: string): Promise<ApplyResult> {
    return this.write({ type: 'leaseRevoke', id });
  }

  /** Keep-alive or time-to-live, answered by the leader's lease clock. */
  async leaseQuery(id: string, keepAlive: boolean): Promise<{ found: boolean; ttl: number; grantedTTL: number }> {
    if (!this.isLeader()) {
      const lead = await this.awaitLeader();
      if (lead !== this.self.idHex) return this.peers!.leaseQuery(lead, id, keepAlive, this.requestTimeoutMs);
    }
    const l = this.mvcc.leases.get(id);
    if (!l) return { found: false, ttl: keepAlive ? 0 : -1, grantedTTL: 0 };
    const now = Date.now();
    if (keepAlive) {
      this.leaseExpiry.set(id, now + l.ttl * 1000);
      return { found: true, ttl: l.ttl, grantedTTL: l.ttl };
    }
    const exp = this.leaseExpiry.get(id) ?? now + l.ttl * 1000;
    return { found: true, ttl: Math.max(0, Math.ceil((exp - now) / 1000)), grantedTTL: l.ttl };
  }

  /** Leader: revoke expired leases through the log (the expiry itself is replicated as a revoke). */
  private expireLeases(): void {
    if (!this.isLeader() || this.stopped) return;
    const now = Date.now();
    for (const [id, exp] of this.leaseExpiry) {
      if (exp > now || this.revoking.has(id)) continue;
      this.revoking.add(id);
      this.log.debug({ lease: id }, 'lease expired; revoking');
      this.leaseRevoke(id).catch(() => this.revoking.delete(id));
    }
  }

  // ------------------------------------------------------------ lifecycle

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.leaseTimer);
    this.node.stop();
    this.peers?.close();
    for (const [ctx, w] of this.readWaiters) {
      this.readWaiters.delete(ctx);
      w.reject(new EtcdError('Stopped'));
    }
  }
}
