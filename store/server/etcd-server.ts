import { randomBytes } from 'node:crypto';
import { Raft } from '../raft/raft';
import { seededRng } from '../raft/rng';
import { type ConfChange, decodeConfChange, encodeConfChange } from '../raft/confchange';
import { type Entry, type Message, NONE, type NodeId, type SnapshotMeta, type SoftState } from '../raft/types';
import { Mvcc, serializeCut, type ApplyResult } from '../mvcc/mvcc';
import { type Command, decodeCommand, encodeCommand, type Op, type RangeOp } from '../mvcc/commands';
import { EtcdError } from '../errors';
import type { RaftDisk, LoadedState } from '../disk/raft-disk';
import { RaftNode } from './raft-node';
import type { PeerClients, PeerHandler } from './peer';
import type { Logger } from '../../lib/log';
import { hexToDec } from './ids';
import { hostPort } from '../config';
import type { MemberInfo } from './member-info';
import { applyMemberChange, checkAddNode, checkMayAddMember, checkPeerURLs, checkPeerURLsFree, type ConfContext, parseConfContext, restoreMembers } from './membership';
import { parseSnapshot, snapshotParts } from './store-snapshot';
import { LeaseClock, MAX_LEASE_TTL } from './lessor';
import { ReadIndexRequests } from './read-index';

export interface EtcdServerOptions {
  self: MemberInfo;
  members: MemberInfo[];
  clusterIdHex: string;
  disk: RaftDisk;
  loaded: LoadedState;
  /** The data of loaded.snapshot (already read and verified). */
  snapshotData?: Buffer;
  /** Raft's bootstrap configuration: the initial members for a new cluster, [] for a member joining an existing one. */
  bootstrapVoters: NodeId[];
  tickMs: number;
  electionTick: number;
  heartbeatTick: number;
  /** Snapshot the applied state and compact the log every this many applied entries (etcd --snapshot-count). */
  snapshotCount?: number;
  /** Entries kept below a snapshot for slow followers (etcd's SnapshotCatchUpEntries, 5000), capped at snapshotCount. */
  snapshotCatchUpEntries?: number;
  requestTimeoutMs?: number;
  log: Logger;
}

export interface Header {
  cluster_id: string;
  member_id: string;
  revision: number;
  raft_term: number;
}

/**
 * One store member: the Raft driver, the MVCC state machine, client request
 * plumbing (proposal waiters, linearizable reads, forwarding to the leader),
 * snapshots, membership changes, leader transfer and the leader-local lease clock
 * (lessor.ts). gRPC adapters (grpc-api.ts, peer.ts) call in here. Pure parts live
 * beside it: membership.ts (member list), store-snapshot.ts (snapshot file format),
 * read-index.ts (read index requests).
 */
export class EtcdServer implements PeerHandler {
  readonly mvcc = new Mvcc();
  readonly node: RaftNode;
  readonly self: MemberInfo;
  readonly clusterIdHex: string;
  readonly members = new Map<string, MemberInfo>();
  /**
   * When each peer was last heard from, and since when without a silence longer than an
   * election timeout (the leader's strict reconfiguration check: connected to everyone).
   */
  private readonly heard = new Map<NodeId, { since: number; last: number }>();
  /** Members removed from the cluster; their messages are ignored. */
  private readonly removed = new Set<string>();
  appliedIndex = 0;
  private peers: PeerClients | undefined;
  private readonly snapshotCount: number;
  private readonly catchUpEntries: number;
  private snapshotIndex = 0;
  private removedNotified = false;
  private snapshotting = false;
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
  private readonly reads: ReadIndexRequests;
  private leaderWaiters: (() => void)[] = [];
  /** Leader only: when each lease expires. */
  private readonly leaseClock = new LeaseClock();
  private leaseTimer: NodeJS.Timeout;
  private published = false;
  private stopped = false;
  onFatal: (e: Error) => void = () => {};
  /** This member was removed from the cluster (etcd: it stops). */
  onRemoved: () => void = () => {};

  constructor(opts: EtcdServerOptions) {
    this.self = opts.self;
    this.clusterIdHex = opts.clusterIdHex;
    for (const m of opts.members) this.members.set(m.idHex, { ...m, clientURLs: m.idHex === opts.self.idHex ? opts.self.clientURLs : [] });
    this.log = opts.log;
    this.disk = opts.disk;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5000 + 2 * opts.electionTick * opts.tickMs;
    this.electionMs = opts.electionTick * opts.tickMs;
    this.minLeaseTtl = Math.ceil((1.5 * this.electionMs) / 1000);
    this.snapshotCount = opts.snapshotCount ?? 10000;
    this.catchUpEntries = Math.min(opts.snapshotCatchUpEntries ?? 5000, this.snapshotCount);
    const snap = opts.loaded.snapshot;
    if (snap) {
      // Restart: the state machine resumes from the snapshot; only later entries are replayed.
      this.restoreSnapshotData(snap, opts.snapshotData!);
    }
    const raft = new Raft({
      id: opts.self.idHex,
      peers: opts.bootstrapVoters,
      electionTick: opts.electionTick,
      heartbeatTick: opts.heartbeatTick,
      rng: seededRng(randomBytes(4).readUInt32BE(0)),
      preVote: true,
      checkQuorum: true,
      snapshot: snap ? { meta: snap, data: new Uint8Array(0) } : undefined,
      hardState: opts.loaded.hardState,
      entries: opts.loaded.entries,
    });
    this.node = new RaftNode({
      raft,
      tickMs: opts.tickMs,
      log: opts.log,
      io: {
        persist: (hs, ents, snapshot) => this.disk.save(hs, ents, snapshot),
        send: (msgs) => this.peers?.send(msgs),
        applySnapshot: (meta) => this.applySnapshot(meta),
        apply: (ents) => this.applyEntries(ents),
        readStates: (rs) => this.reads.onReadStates(rs),
        softState: (ss) => this.onSoftState(ss),
        afterAdvance: () => this.maybeSnapshot(),
      },
    });
    this.node.onFatal = (e) => this.onFatal(e);
    this.reads = new ReadIndexRequests({
      self: this.self.idHex,
      awaitLeader: () => this.awaitLeader(),
      forward: (lead) => this.peers!.readIndex(lead, this.requestTimeoutMs),
      request: (ctx) => this.node.readIndex(ctx),
      timeoutMs: this.requestTimeoutMs,
    });
    this.leaseTimer = setInterval(() => this.expireLeases(), 500);
    this.leaseTimer.unref?.();
  }

  attachPeers(peers: PeerClients): void {
    this.peers = peers;
    this.updatePeerTransport();
  }

  /** id -> host:port of every other member, for the transport. */
  peerAddrs(): Map<string, string> {
    const m = new Map<string, string>();
    for (const x of this.members.values()) if (x.idHex !== this.self.idHex && x.peerURLs[0]) m.set(x.idHex, hostPort(x.peerURLs[0]));
    return m;
  }

  private updatePeerTransport(): void {
    this.peers?.setPeers(this.peerAddrs());
  }

  // ------------------------------------------------------------ snapshots (§7)

  /** The snapshot in force, for the transport to send to a follower that needs it. */
  async snapshotSource(): Promise<{ meta: SnapshotMeta; data: Buffer } | undefined> {
    const meta = this.disk.snapshot;
    if (!meta) return undefined;
    return { meta, data: await this.disk.readSnapshotFile(meta) };
  }

  /** Transport: report on a snapshot sent to `to`. */
  reportSnapshot(to: NodeId, ok: boolean): void {
    this.node.do((r) => r.reportSnapshot(to, ok)).catch(() => {});
  }

  // PeerHandler: the leader sent us a snapshot. Step 1 of the snapshot protocol
  // (raft-disk.ts): durable file first; only then may Raft see the message.
  async receiveSnapshot(m: Message, data: Buffer): Promise<void> {
    const meta = m.snapshot!.meta;
    if (meta.index > this.appliedIndex) {
      parseSnapshot(data); // refuse a malformed snapshot before it can be installed
      await this.disk.writeSnapshotFile(meta, data);
      this.log.info({ index: meta.index, term: meta.term, bytes: data.length, from: m.from }, 'received snapshot');
    }
    this.onMessages([m]);
  }

  /** Ready.snapshot: replace the state machine by the (durable) snapshot from the leader. */
  private async applySnapshot(meta: SnapshotMeta): Promise<void> {
    const data = await this.disk.readSnapshotFile(meta);
    this.restoreSnapshotData(meta, data);
    this.updatePeerTransport();
    this.log.info({ index: meta.index, term: meta.term, revision: this.mvcc.revision }, 'installed snapshot from the leader');
    this.releaseAppliedWaiters();
  }

  private restoreSnapshotData(meta: SnapshotMeta, data: Buffer): void {
    const s = parseSnapshot(data);
    this.mvcc.restore(s.mvcc);
    restoreMembers(this.members, s.members);
    this.appliedIndex = meta.index;
    this.snapshotIndex = meta.index;
  }

  /**
   * After each Ready: every `snapshotCount` applied entries, snapshot the state
   * (members + MVCC) at the applied index and compact the log, in the durable
   * order documented in raft-disk.ts (file, then "snap" + truncation, then the
   * core forgets the entries). A consistent cut of the state is taken
   * synchronously at the applied index (cheap: `Mvcc.cut`); serialising it, the
   * file write and the fsyncs run in the background, so the Raft loop keeps
   * heartbeating, replicating and applying meanwhile.
   */
  private async maybeSnapshot(): Promise<void> {
    if (this.snapshotting || this.appliedIndex - this.snapshotIndex < this.snapshotCount || this.stopped) return;
    const raft = this.node.raft;
    const index = this.appliedIndex;
    const meta: SnapshotMeta = { index, term: raft.log.term(index)!, voters: raft.confVoters() };
    const started = Date.now();
    // The cut is taken here, at the applied index (O(keys)); serialising it runs a chunk
    // per event-loop turn, so the Raft loop keeps persisting, sending and applying meanwhile.
    const cut = this.mvcc.cut();
    const members = JSON.stringify([...this.members.values()]);
    const compactIndex = Math.max(0, index - this.catchUpEntries);
    this.snapshotting = true;
    let bytes = 0;
    (async () => {
      const parts = await serializeCut(cut, () => new Promise<void>((r) => setImmediate(r)));
      const data = snapshotParts(members, parts);
      for (const p of data) bytes += p.length;
      if (this.stopped) return;
      await this.disk.writeSnapshotFile(meta, data);
      if (!(await this.disk.compact(meta, compactIndex))) return; // a newer snapshot from the leader won
      await this.node.do((r) => r.compact({ meta, data: new Uint8Array(0) }, compactIndex));
      this.snapshotIndex = Math.max(this.snapshotIndex, index);
      this.log.info({ index, compactIndex, bytes, ms: Date.now() - started }, 'snapshot taken; log compacted');
    })()
      .catch((e: Error) => {
        if (this.stopped) return;
        this.log.fatal({ err: e }, 'snapshot failed');
        this.onFatal(e);
      })
      .finally(() => {
        this.snapshotting = false;
      });
  }

  // ------------------------------------------------------------ membership (diss. §4.1)

  /**
   * Propose a single-server membership change through the log and resolve once
   * it is applied on this member. Retries while another change is in flight (one
   * at a time). Followers forward to the leader.
   */
  private async changeMembership(type: ConfChange['type'], member: ConfContext['member']): Promise<void> {
    const reqId = `${this.self.idHex}-${this.bootNonce}-cc${++this.seq}`;
    const cc: ConfChange = { type, nodeId: member.idHex, context: JSON.stringify({ reqId, member } satisfies ConfContext) };
    const applied = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(reqId);
        reject(new EtcdError('Timeout'));
      }, this.requestTimeoutMs);
      this.waiters.set(reqId, {
        done: (r) => {
          clearTimeout(timer);
          this.waiters.delete(reqId);
          if (r instanceof Error) reject(r);
          else resolve();
        },
      });
    });
    const lead = await this.awaitLeader();
    const proposed = lead === this.self.idHex ? this.confChange(Buffer.from(encodeConfChange(cc))) : this.peers!.confChange(lead, Buffer.from(encodeConfChange(cc)), this.requestTimeoutMs);
    await Promise.all([proposed, applied]).catch((e) => {
      this.waiters.get(reqId)?.done(e as Error);
      throw e;
    });
  }

  // PeerHandler (and local): propose an encoded ConfChange as leader; resolve with its index once applied here.
  async confChange(data: Buffer): Promise<number> {
    const cc = decodeConfChange(data);
    if (!cc) throw new EtcdError('InvalidArgument', 'malformed membership change');
    const deadline = Date.now() + this.requestTimeoutMs;
    const adding = cc.type === 'AddNode' ? parseConfContext(cc)?.member : undefined;
    if (cc.type === 'AddNode' && !adding) throw new EtcdError('InvalidArgument', 'membership change without the member');
    for (;;) {
      const index = await this.node.do((r) => {
        // Judged inside the loop against the applied member list: when the core accepts the
        // proposal, no other change is pending, so every earlier add is in `members`.
        if (adding && r.state === 'Leader') {
          checkAddNode(this.members, this.removed, adding);
          checkMayAddMember(this.members.values(), this.self.idHex, (id) => this.connected(id));
        }
        return r.proposeConfChange(cc);
      });
      if (index > 0) {
        await this.waitApplied(index);
        return index;
      }
      if (index === 0) throw new EtcdError(this.leaderHex === NONE ? 'NoLeader' : 'LeaderChanged');
      if (Date.now() > deadline) throw new EtcdError('Timeout');
      await new Promise((r) => setTimeout(r, 20)); // another change is being applied
    }
  }

  /** Heard from `id` within an election timeout, without a gap, for at least two election timeouts. */
  private connected(id: NodeId): boolean {
    const h = this.heard.get(id);
    const now = Date.now();
    return h !== undefined && now - h.last <= this.electionMs && now - h.since >= 2 * this.electionMs;
  }

  isRemoved(id: NodeId): boolean {
    return this.removed.has(id);
  }

  /** A peer told us we were removed (we missed the entry that removed us). */
  removedByPeer(): void {
    if (this.stopped || this.removedNotified) return;
    this.removedNotified = true;
    // A removed member never comes back under its id: to join again it is added anew and starts with an empty data dir.
    this.log.warn('peers report this member was removed from the cluster; stopping (to join again: member add, then an empty data dir)');
    this.onRemoved();
  }

  membersJson(): string {
    return JSON.stringify([...this.members.values()]);
  }

  async memberAdd(peerURLs: string[]): Promise<MemberInfo> {
    checkPeerURLs(peerURLs);
    checkPeerURLsFree(this.members, peerURLs);
    let idHex: string;
    do idHex = randomBytes(8).toString('hex');
    while (idHex === '0000000000000000' || this.members.has(idHex) || this.removed.has(idHex));
    await this.changeMembership('AddNode', { idHex, name: '', peerURLs });
    return this.members.get(idHex) ?? { idHex, name: '', peerURLs, clientURLs: [] };
  }

  async memberRemove(idHex: string): Promise<void> {
    const m = this.members.get(idHex);
    if (!m) throw new EtcdError('MemberNotFound');
    await this.changeMembership('RemoveNode', { idHex, name: m.name, peerURLs: m.peerURLs });
  }

  async memberUpdate(idHex: string, peerURLs: string[]): Promise<void> {
    const m = this.members.get(idHex);
    if (!m) throw new EtcdError('MemberNotFound');
    checkPeerURLsFree(this.members, peerURLs, idHex);
    await this.changeMembership('UpdateNode', { idHex, name: m.name, peerURLs });
  }

  private applyConfChange(e: Entry): void {
    const cc = decodeConfChange(e.data);
    if (!cc) {
      this.log.error({ index: e.index }, 'skipping undecodable membership change');
      return;
    }
    const ctx = parseConfContext(cc);
    applyMemberChange(this.members, this.removed, cc, ctx?.member);
    if (e.index > 0 && ctx?.reqId) this.log.info({ change: cc.type, member: cc.nodeId, index: e.index }, 'membership changed');
    this.updatePeerTransport();
    if (ctx?.reqId) this.waiters.get(ctx.reqId)?.done({ revision: this.mvcc.revision, response: {} });
    if (cc.type === 'RemoveNode' && cc.nodeId === this.self.idHex) {
      this.log.warn('this member has been permanently removed from the cluster; stopping');
      this.removedNotified = true;
      setTimeout(() => this.onRemoved(), 200).unref();
    }
  }

  // ------------------------------------------------------------ leader transfer (diss. §3.10)

  /** Maintenance.MoveLeader: only the leader may hand over leadership; resolves once `to` leads. */
  async moveLeader(to: NodeId): Promise<void> {
    if (!this.isLeader()) throw new EtcdError('NotLeader');
    if (!this.node.raft.peers.includes(to)) throw new EtcdError('BadLeaderTransferee');
    if (to === this.self.idHex) return;
    await this.transferTo(to, this.electionMs * 2);
    if (this.leaderHex !== to) throw new EtcdError('TimeoutLeaderTransfer');
  }

  private async transferTo(to: NodeId, timeoutMs: number): Promise<void> {
    const ok = await this.node.do((r) => r.transferLeader(to));
    if (!ok) return;
    const deadline = Date.now() + timeoutMs;
    while (this.leaderHex !== to && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** On graceful shutdown: hand leadership to the most up-to-date follower first, so the cluster does not wait out an election timeout. */
  private async transferOnShutdown(): Promise<void> {
    const raft = this.node.raft;
    if (raft.state !== 'Leader' || raft.peers.length < 2) return;
    let best: { id: NodeId; match: number } | undefined;
    for (const id of raft.peers) {
      if (id === this.self.idHex) continue;
      const p = raft.progress(id);
      if (p && (!best || p.match > best.match)) best = { id, match: p.match };
    }
    if (!best) return;
    try {
      await this.transferTo(best.id, this.electionMs);
      this.log.info({ to: best.id, done: this.leaderHex === best.id }, 'leadership transferred before shutdown');
    } catch {
      /* stopping anyway */
    }
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
    // The decimal ids are computed once (BigInt conversions on every response otherwise).
    const ids = (this.idsDec ??= { cluster: hexToDec(this.clusterIdHex), member: hexToDec(this.self.idHex) });
    return { cluster_id: ids.cluster, member_id: ids.member, revision, raft_term: this.term };
  }
  private idsDec: { cluster: string; member: string } | undefined;

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
    if (msgs.length > 0) {
      const now = Date.now();
      const h = this.heard.get(msgs[0].from);
      if (!h || now - h.last > this.electionMs) this.heard.set(msgs[0].from, { since: now, last: now });
      else h.last = now;
    }
    for (const m of msgs) {
      // A member that joins hears from the leader before it knows every member, so
      // anyone of this cluster (checked by the transport) is heard, except members removed.
      if (m.to === this.self.idHex && !this.removed.has(m.from)) this.node.step(m);
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
    return this.reads.readIndex();
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
      if (e.type === 'ConfChange') {
        failExpected();
        this.applyConfChange(e);
        continue;
      }
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
        if (op.type === 'leaseGrant') this.leaseClock.granted(op.id, op.ttl, Date.now());
        if (op.type === 'leaseRevoke') this.leaseClock.revoked(op.id);
      }
      this.waiters.get(cmd.id)?.done(result);
    }
    this.releaseAppliedWaiters();
  }

  private releaseAppliedWaiters(): void {
    if (this.appliedWaiters.length > 0) {
      const ready = this.appliedWaiters.filter((w) => w.index <= this.appliedIndex);
      this.appliedWaiters = this.appliedWaiters.filter((w) => w.index > this.appliedIndex);
      for (const w of ready) w.resolve();
    }
  }

  private onSoftState(ss: SoftState): void {
    this.log.info({ leader: ss.lead || null, state: ss.state, term: this.term }, 'raft state changed');
    if (ss.state === 'Leader') {
      this.leaseClock.promote(this.mvcc.leases.values(), Date.now());
    } else {
      this.leaseClock.demote();
      this.reads.rejectAll(new EtcdError('LeaderChanged'));
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
      this.leaseClock.keepAlive(id, l.ttl, now);
      return { found: true, ttl: l.ttl, grantedTTL: l.ttl };
    }
    return { found: true, ttl: this.leaseClock.remaining(id, l.ttl, now), grantedTTL: l.ttl };
  }

  /** Leader: revoke expired leases through the log (the expiry itself is replicated as a revoke). */
  private expireLeases(): void {
    if (!this.isLeader() || this.stopped) return;
    for (const id of this.leaseClock.takeExpired(Date.now())) {
      this.log.debug({ lease: id }, 'lease expired; revoking');
      this.leaseRevoke(id).catch(() => this.leaseClock.revokeFailed(id));
    }
  }

  // ------------------------------------------------------------ lifecycle

  async stop(): Promise<void> {
    if (this.stopped) return;
    await this.transferOnShutdown();
    this.stopped = true;
    clearInterval(this.leaseTimer);
    this.node.stop();
    this.peers?.close();
    this.reads.rejectAll(new EtcdError('Stopped'));
  }
}
