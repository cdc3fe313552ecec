import { type ConfChange, decodeConfChange, encodeConfChange } from './confchange';
import { RaftLog } from './log';
import { Progress } from './progress';
import { randInt } from './rng';
import {
  type Entry,
  type HardState,
  type Message,
  type MessageType,
  type NodeId,
  NONE,
  type ReadState,
  type Ready,
  type Snapshot,
  type SoftState,
  type StateType,
  emptyMessage,
  isHardStateEqual,
} from './types';

export interface RaftConfig {
  id: NodeId;
  /**
   * The voting members when no snapshot says otherwise (bootstrap configuration).
   * A node not in its own configuration never campaigns (a member joining an
   * existing cluster starts with `[]` and learns the configuration from the
   * leader's log or snapshot). Changed only by ConfChange entries (§4.1).
   */
  peers: NodeId[];
  /** Ticks without hearing from a leader before campaigning; randomized in [electionTick, 2*electionTick) (§5.2). */
  electionTick: number;
  /** Ticks between leader heartbeats; must be < electionTick. */
  heartbeatTick: number;
  /** Randomness in [0, 1). Inject a seeded generator for deterministic simulation. */
  rng: () => number;
  /** Pre-vote (dissertation §9.6): a partitioned node cannot disrupt the cluster by bumping terms on rejoin. */
  preVote?: boolean;
  /** Check-quorum (dissertation §6.2): a leader that has not heard from a quorum within an election timeout steps down; voters in a leader lease ignore vote requests. */
  checkQuorum?: boolean;
  /** Entries per append message (batching). */
  maxEntriesPerMsg?: number;
  /** Bytes of entry data per append message beyond its first entry (etcd's MaxSizePerMsg; default 1 MiB). */
  maxBytesPerMsg?: number;
  /** Unacknowledged appends per follower in Replicate state (pipelining). */
  maxInflightMsgs?: number;
  /** What stable storage holds at start (restart): the latest snapshot (data may be empty), hard state and entries after it. */
  snapshot?: Snapshot;
  hardState?: HardState;
  entries?: Entry[];
}

/**
 * The Raft consensus core as a deterministic state machine. It has no timers,
 * sockets or disk: time advances by `tick()`, input arrives by `step(msg)`,
 * `propose(data)` and `readIndex(ctx)`, and all output is collected into a
 * `Ready` (see types.ts for the ordering contract) consumed with `ready()` /
 * `advance()`.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  state: StateType = 'Follower';
  readonly log: RaftLog;

  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private randomizedElectionTimeout = 0;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private readonly rng: () => number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxEntriesPerMsg: number;
  private readonly maxBytesPerMsg: number;
  private readonly maxInflight: number;

  /** The configuration in force: voters as of the last applied ConfChange (or snapshot). */
  private voters: Set<NodeId>;
  /** Latest snapshot (as given to `compact` or received from a leader); sent to followers that need compacted entries. */
  private snapshot: Snapshot | undefined;
  /** A received snapshot the driver has not yet been handed in a Ready. */
  private pendingSnapshot: Snapshot | undefined;
  /** Leader: index of the latest ConfChange it appended (or its no-op); another may not be proposed before it is applied (§4.1, one at a time). */
  private pendingConfIndex = 0;
  /** Leader transfer target (dissertation §3.10), or NONE. */
  private leadTransferee: NodeId = NONE;

  private prs = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();
  private msgs: Message[] = [];

  // Read index (dissertation §6.4).
  private readSeq = 0;
  private pendingReads: { seq: number; index: number; ctx: number }[] = [];
  /** Reads received before this leader committed an entry of its term; released once it has. */
  private readsAwaitingCommit: number[] = [];
  private readStates: ReadState[] = [];

  // What the driver has already been given.
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private readyInFlight = false;

  constructor(cfg: RaftConfig) {
    if (cfg.heartbeatTick <= 0 || cfg.electionTick <= cfg.heartbeatTick) {
      throw new Error('raft: need 0 < heartbeatTick < electionTick');
    }
    this.id = cfg.id;
    this.snapshot = cfg.snapshot;
    this.voters = new Set(cfg.snapshot ? cfg.snapshot.meta.voters : cfg.peers);
    this.electionTimeout = cfg.electionTick;
    this.heartbeatTimeout = cfg.heartbeatTick;
    this.rng = cfg.rng;
    this.preVote = cfg.preVote ?? true;
    this.checkQuorum = cfg.checkQuorum ?? true;
    this.maxEntriesPerMsg = cfg.maxEntriesPerMsg ?? 512;
    this.maxBytesPerMsg = cfg.maxBytesPerMsg ?? 1024 * 1024;
    this.maxInflight = cfg.maxInflightMsgs ?? 256;
    const hs = cfg.hardState ?? { term: 0, vote: NONE, commit: 0 };
    const snap = cfg.snapshot?.meta;
    this.log = new RaftLog(cfg.entries ?? [], Math.max(hs.commit, snap?.index ?? 0), snap?.index ?? 0, snap?.term ?? 0);
    this.term = hs.term;
    this.vote = hs.vote;
    this.prevHardState = { ...hs };
    this.becomeFollower(hs.term, NONE);
    this.prevSoftState = this.softState();
  }

  // ---------------------------------------------------------------- inputs

  /** Advance logical time by one tick. */
  tick(): void {
    this.assertNotInReady();
    if (this.state === 'Leader') {
      this.heartbeatElapsed++;
      this.electionElapsed++;
      if (this.electionElapsed >= this.electionTimeout) {
        this.electionElapsed = 0;
        // diss. §3.10: a transfer that has not completed within an election timeout is aborted.
        this.leadTransferee = NONE;
        if (this.checkQuorum && !this.quorumActive()) {
          // §6.2 (dissertation): we may be partitioned away; stop acting as leader.
          this.becomeFollower(this.term, NONE);
          return;
        }
      }
      if (this.heartbeatElapsed >= this.heartbeatTimeout) {
        this.heartbeatElapsed = 0;
        this.bcastHeartbeat();
      }
      return;
    }
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      if (this.promotable()) this.hup();
    }
  }

  /** The voting members, sorted. */
  get peers(): NodeId[] {
    return [...this.voters].sort();
  }

  /** Whether this node is a voter in its own configuration (only voters campaign). */
  promotable(): boolean {
    return this.voters.has(this.id);
  }

  /** Start an election now (tests, and later leader transfer). */
  campaign(): void {
    this.assertNotInReady();
    this.hup();
  }

  /**
   * Append commands to the log. Only a leader accepts proposals; returns the
   * index of the first new entry, or 0 if this node is not the leader (the caller
   * forwards to `lead`).
   */
  propose(datas: Uint8Array[]): number {
    this.assertNotInReady();
    // diss. §3.10: during a leader transfer the leader stops accepting requests.
    if (this.state !== 'Leader' || datas.length === 0 || this.leadTransferee !== NONE) return 0;
    const first = this.log.lastIndex() + 1;
    this.appendEntries(datas.map((data) => ({ term: this.term, index: 0, type: 'Normal' as const, data })));
    return first;
  }

  /**
   * Propose a single-server membership change (dissertation §4.1). Returns the
   * entry's index; 0 if this node is not the leader (or is transferring
   * leadership); -1 if an earlier change (or this leader's first entry, see
   * Ongaro's 2015 raft-dev fix: a new leader must commit an entry of its term
   * first) is not yet applied — one change at a time.
   */
  proposeConfChange(cc: ConfChange): number {
    this.assertNotInReady();
    if (this.state !== 'Leader' || this.leadTransferee !== NONE) return 0;
    if (this.pendingConfIndex > this.log.applied) return -1;
    const index = this.log.lastIndex() + 1;
    this.appendEntries([{ term: this.term, index: 0, type: 'ConfChange', data: encodeConfChange(cc) }]);
    this.pendingConfIndex = index;
    return index;
  }

  /**
   * Hand leadership to `to` (dissertation §3.10): stop accepting proposals, bring
   * `to` up to date, then send it TimeoutNow so it campaigns at once. Aborted after
   * an election timeout. Returns false if this node is not the leader or `to` is
   * not another voter.
   */
  transferLeader(to: NodeId): boolean {
    this.assertNotInReady();
    if (this.state !== 'Leader' || to === this.id || !this.voters.has(to)) return false;
    if (this.leadTransferee === to) return true;
    this.leadTransferee = to;
    this.electionElapsed = 0;
    const pr = this.prs.get(to)!;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppendLoop(to, true);
    return true;
  }

  get transferee(): NodeId {
    return this.leadTransferee;
  }

  /**
   * The driver made `snapshot` durable (the state at snapshot.meta.index, which it
   * has applied) and may drop the log up to `compactIndex` (<= the snapshot index;
   * lower keeps entries for slow followers, like etcd's catch-up entries). Call
   * only after the snapshot AND the log truncation are on stable storage, or with
   * the truncation still to come: the core never needs the dropped entries again.
   */
  compact(snapshot: Snapshot, compactIndex: number): void {
    this.assertNotInReady();
    if (snapshot.meta.index > this.log.applied) throw new Error(`raft: snapshot ${snapshot.meta.index} beyond applied ${this.log.applied}`);
    if (!this.snapshot || snapshot.meta.index > this.snapshot.meta.index) this.snapshot = snapshot;
    this.log.compact(Math.min(compactIndex, snapshot.meta.index));
  }

  /**
   * The transport's report on a snapshot sent to `to` (etcd's ReportSnapshot):
   * delivered (the follower's answer moves it on) or failed (probe again, which
   * re-sends it). Either way wait for the next heartbeat answer before sending more.
   */
  reportSnapshot(to: NodeId, ok: boolean): void {
    this.assertNotInReady();
    const pr = this.prs.get(to);
    if (this.state !== 'Leader' || !pr || pr.state !== 'Snapshot') return;
    const pending = pr.pendingSnapshot;
    pr.becomeProbe();
    if (ok) pr.next = Math.max(pr.next, pending + 1);
    pr.probeSent = true;
  }

  /** The configuration in force (for the driver's snapshots). */
  confVoters(): NodeId[] {
    return this.peers;
  }

  /**
   * Ask for a linearizable read point (dissertation §6.4). On the leader the
   * current commit index is recorded, leadership is confirmed by a heartbeat
   * round acknowledged by a quorum, and a ReadState{index, ctx} appears in a
   * later Ready. Returns false if this node is not the leader. Reads are lost
   * if leadership is lost before confirmation; the caller times them out.
   */
  readIndex(ctx: number): boolean {
    this.assertNotInReady();
    if (this.state !== 'Leader') return false;
    if (!this.committedEntryInCurrentTerm()) {
      // §6.4 step 1: the leader's commit index is only known to be current once
      // an entry from its own term (the no-op) is committed.
      this.readsAwaitingCommit.push(ctx);
      return true;
    }
    this.addRead(ctx);
    return true;
  }

  /** Process one message from a peer. Messages addressed elsewhere are ignored. */
  step(m: Message): void {
    this.assertNotInReady();
    // Messages from servers outside the configuration are accepted (a joining
    // member hears from the leader before it knows the configuration); only
    // voters' votes are counted and only known followers' progress is tracked.
    if (m.to !== this.id || m.from === this.id) return;

    if (m.term > this.term) {
      if (m.type === 'Vote' || m.type === 'PreVote') {
        // Leader lease (dissertation §4.2.3): while we hear from a live leader,
        // ignore vote requests so a removed or partitioned server cannot depose it.
        // An election started by TimeoutNow (§3.10) is the leader's own wish.
        const transfer = m.type === 'Vote' && m.context === 1;
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        if (inLease && !transfer) return;
      }
      if (m.type === 'PreVote') {
        // Pre-vote never changes our term.
      } else if (m.type === 'PreVoteResp' && !m.reject) {
        // A granted pre-vote carries the term we would campaign for; not a newer term.
      } else {
        // §5.1: a higher term makes us follower of that term.
        const lead = m.type === 'App' || m.type === 'Heartbeat' || m.type === 'Snap' ? m.from : NONE;
        this.becomeFollower(m.term, lead);
      }
    } else if (m.term < this.term) {
      // §5.1: reply to a stale sender with our term so it steps down.
      if (m.type === 'App' || m.type === 'Heartbeat' || m.type === 'Snap') {
        this.send({ ...emptyMessage('AppResp', this.id, m.from, this.term) });
      } else if (m.type === 'PreVote' || m.type === 'Vote') {
        this.send({ ...emptyMessage(m.type === 'Vote' ? 'VoteResp' : 'PreVoteResp', this.id, m.from, this.term), reject: true });
      }
      return;
    }

    if (m.type === 'Vote' || m.type === 'PreVote') {
      this.handleVoteRequest(m);
      return;
    }

    switch (this.state) {
      case 'Leader':
        this.stepLeader(m);
        break;
      case 'Candidate':
      case 'PreCandidate':
        this.stepCandidate(m);
        break;
      case 'Follower':
        this.stepFollower(m);
        break;
    }
  }

  // ---------------------------------------------------------------- output

  hasReady(): boolean {
    if (this.readyInFlight) return false;
    const ss = this.softState();
    return (
      this.pendingSnapshot !== undefined ||
      this.msgs.length > 0 ||
      this.log.unstableEntries().length > 0 ||
      this.log.hasNextCommittedEntries() ||
      this.readStates.length > 0 ||
      !isHardStateEqual(this.hardState(), this.prevHardState) ||
      ss.lead !== this.prevSoftState.lead ||
      ss.state !== this.prevSoftState.state
    );
  }

  /** Collect pending output. Must be followed by `advance(rd)` before any other input. */
  ready(): Ready {
    this.assertNotInReady();
    const rd: Ready = {
      entries: this.log.unstableEntries(),
      messages: this.msgs,
      committedEntries: this.log.nextCommittedEntries(),
      readStates: this.readStates,
    };
    if (this.pendingSnapshot) rd.snapshot = this.pendingSnapshot;
    const hs = this.hardState();
    if (!isHardStateEqual(hs, this.prevHardState)) rd.hardState = hs;
    const ss = this.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.state !== this.prevSoftState.state) rd.softState = ss;
    this.msgs = [];
    this.readStates = [];
    this.readyInFlight = true;
    return rd;
  }

  /**
   * The driver has persisted, sent and applied everything in `rd`. ConfChange
   * entries among the committed ones take effect here, as they are applied
   * (etcd-io/raft's rule; safe with one change at a time, §4.1).
   */
  advance(rd: Ready): void {
    if (!this.readyInFlight) throw new Error('raft: advance without ready');
    this.readyInFlight = false;
    if (rd.hardState) this.prevHardState = rd.hardState;
    if (rd.softState) this.prevSoftState = rd.softState;
    if (rd.snapshot) {
      if (this.pendingSnapshot === rd.snapshot) this.pendingSnapshot = undefined;
      this.log.appliedTo(rd.snapshot.meta.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      this.log.stableTo(last.index, last.term);
      const self = this.state === 'Leader' ? this.prs.get(this.id) : undefined;
      if (self?.maybeUpdate(this.log.stabled) && this.maybeCommit()) this.bcastAppend();
    }
    if (rd.committedEntries.length > 0) {
      this.log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
      for (const e of rd.committedEntries) {
        if (e.type !== 'ConfChange') continue;
        const cc = decodeConfChange(e.data);
        if (cc) this.applyConfChange(cc);
      }
    }
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, state: this.state };
  }

  /** For tests and status: the leader's view of each follower. */
  progress(id: NodeId): { match: number; next: number; state: string } | undefined {
    if (this.state !== 'Leader') return undefined;
    const p = this.prs.get(id);
    return p && { match: p.match, next: p.next, state: p.state };
  }

  // ---------------------------------------------------------------- roles

  private quorum(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  /** Apply a committed membership change to the configuration (single-server, §4.1). */
  private applyConfChange(cc: ConfChange): void {
    if (cc.type === 'AddNode') {
      if (this.voters.has(cc.nodeId)) return;
      this.voters.add(cc.nodeId);
      if (this.state === 'Leader') this.prs.set(cc.nodeId, new Progress(this.log.lastIndex() + 1, this.maxInflight));
    } else if (cc.type === 'RemoveNode') {
      if (!this.voters.delete(cc.nodeId)) return;
      this.prs.delete(cc.nodeId);
      if (cc.nodeId === this.leadTransferee) this.leadTransferee = NONE;
      if (cc.nodeId === this.id && this.state === 'Leader') {
        // §4.2.2: a leader removed from the configuration steps down once the
        // change is committed; the remaining servers elect a new leader.
        this.becomeFollower(this.term, NONE);
        return;
      }
    } else {
      return;
    }
    if (this.state === 'Leader') {
      // A smaller quorum may commit more; a new voter needs the log.
      if (this.maybeCommit()) this.bcastAppend();
      else if (cc.type === 'AddNode') this.sendAppendLoop(cc.nodeId, true);
      this.releaseReads();
    } else if (this.state === 'PreCandidate' || this.state === 'Candidate') {
      this.becomeFollower(this.term, NONE);
    }
  }

  /** Committed-but-unapplied ConfChange entries: the configuration this node knows may be stale. */
  private hasUnappliedConfChange(): boolean {
    if (this.log.committed <= this.log.applied || this.log.applied < this.log.firstIndex() - 1) return false;
    return this.log.slice(this.log.applied + 1, this.log.committed + 1).some((e) => e.type === 'ConfChange');
  }

  private resetTerm(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = randInt(this.rng, this.electionTimeout, 2 * this.electionTimeout);
    this.votes.clear();
    this.prs.clear();
    this.pendingReads = [];
    this.readsAwaitingCommit = [];
    this.leadTransferee = NONE;
  }

  private becomeFollower(term: number, lead: NodeId): void {
    this.resetTerm(term);
    this.state = 'Follower';
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    // Pre-vote: no term change, no vote; only asks whether an election could win.
    this.votes.clear();
    this.state = 'PreCandidate';
    this.lead = NONE;
  }

  private becomeCandidate(): void {
    this.resetTerm(this.term + 1); // §5.2: increment term, vote for self
    this.vote = this.id;
    this.state = 'Candidate';
  }

  private becomeLeader(): void {
    this.resetTerm(this.term);
    this.state = 'Leader';
    this.lead = this.id;
    // Figure 2: nextIndex = leader last log index + 1, matchIndex = 0.
    for (const p of this.voters) {
      const pr = new Progress(this.log.lastIndex() + 1, this.maxInflight);
      if (p === this.id) pr.match = this.log.stabled; // only what is on stable storage counts (§10.2.1)
      this.prs.set(p, pr);
    }
    // §8 / dissertation §6.4: a no-op entry of the new term lets the leader learn
    // the commit index (§5.4.2 commits only entries of its own term by counting).
    this.appendEntries([{ term: this.term, index: 0, type: 'Normal', data: new Uint8Array(0) }]);
    // No membership change until the no-op (an entry of this term) is applied.
    this.pendingConfIndex = this.log.lastIndex();
  }

  private hup(transfer = false): void {
    if (this.state === 'Leader' || !this.promotable()) return;
    // Our configuration may be stale until committed changes are applied (etcd-io/raft does the same).
    if (this.hasUnappliedConfChange()) return;
    this.campaignFor(this.preVote && !transfer ? 'PreVote' : 'Vote', transfer);
  }

  private campaignFor(kind: 'PreVote' | 'Vote', transfer = false): void {
    let voteTerm: number;
    if (kind === 'PreVote') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    if (this.recordVote(this.id, true) === 'won') {
      if (kind === 'PreVote') this.campaignFor('Vote');
      else this.becomeLeader();
      return;
    }
    for (const p of this.voters) {
      if (p === this.id) continue;
      this.send({
        ...emptyMessage(kind, this.id, p, voteTerm),
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
        context: transfer ? 1 : 0,
      });
    }
  }

  private recordVote(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (this.voters.has(id) && !this.votes.has(id)) this.votes.set(id, granted);
    let yes = 0;
    let no = 0;
    for (const v of this.votes.values()) v ? yes++ : no++;
    if (yes >= this.quorum()) return 'won';
    if (no >= this.quorum()) return 'lost';
    return 'pending';
  }

  private handleVoteRequest(m: Message): void {
    // §5.2: at most one vote per term, first-come-first-served; §5.4.1: only for
    // candidates whose log is at least as up to date as ours. A pre-vote for a
    // future term is granted on the log check alone (no vote is recorded).
    const respType: MessageType = m.type === 'Vote' ? 'VoteResp' : 'PreVoteResp';
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === 'PreVote' && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.send({ ...emptyMessage(respType, this.id, m.from, m.term) });
      if (m.type === 'Vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ ...emptyMessage(respType, this.id, m.from, this.term), reject: true });
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'App':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        break;
      case 'Heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        break;
      case 'Snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        break;
      case 'TimeoutNow':
        // diss. §3.10: the leader asks us to take over; campaign now, skipping pre-vote.
        this.hup(true);
        break;
      default:
        break;
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'App':
        // §5.2: a candidate that hears from a leader of its term returns to follower.
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        break;
      case 'Heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        break;
      case 'Snap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        break;
      case 'VoteResp':
      case 'PreVoteResp': {
        const mine = this.state === 'PreCandidate' ? 'PreVoteResp' : 'VoteResp';
        if (m.type !== mine) break;
        const r = this.recordVote(m.from, !m.reject);
        if (r === 'won') {
          if (this.state === 'PreCandidate') this.campaignFor('Vote');
          else this.becomeLeader();
        } else if (r === 'lost') {
          this.becomeFollower(this.term, NONE);
        }
        break;
      }
      default:
        break;
    }
  }

  private stepLeader(m: Message): void {
    const pr = this.prs.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case 'AppResp': {
        pr.recentActive = true;
        if (m.reject) {
          if (pr.maybeDecrTo(m.index, m.rejectHint)) {
            if (pr.state === 'Replicate') pr.becomeProbe();
            this.sendAppendLoop(m.from, true);
          }
          break;
        }
        const wasPaused = pr.isPaused();
        if (pr.maybeUpdate(m.index)) {
          if (pr.state === 'Probe' || (pr.state === 'Snapshot' && pr.match >= pr.pendingSnapshot)) pr.becomeReplicate();
          if (this.maybeCommit()) {
            this.bcastAppend();
          } else {
            this.sendAppendLoop(m.from, false);
          }
          if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
        } else if (wasPaused) {
          this.sendAppendLoop(m.from, false);
        }
        break;
      }
      case 'HeartbeatResp': {
        pr.recentActive = true;
        pr.probeSent = false;
        // A follower behind us may have lost appends sent optimistically in
        // Replicate (it crashed and restarted); an (even empty) append makes it
        // reject and re-probe. If those lost appends filled the window, free one
        // slot first, or nothing would ever be sent to it again.
        pr.freeFirstOneIfFull();
        if (pr.match < this.log.lastIndex()) this.sendAppendLoop(m.from, true);
        if (m.context > pr.readAck) {
          pr.readAck = m.context;
          this.releaseReads();
        }
        break;
      }
      default:
        break;
    }
  }

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      // Already have (and committed) everything up to our commit; tell the leader.
      this.send({ ...emptyMessage('AppResp', this.id, m.from, this.term), index: this.log.committed });
      return;
    }
    const last = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (last !== undefined) {
      this.send({ ...emptyMessage('AppResp', this.id, m.from, this.term), index: last });
    } else {
      // §5.3: consistency check failed; hint where our log may match.
      const hint = this.log.findConflictByTerm(m.index, m.logTerm);
      this.send({ ...emptyMessage('AppResp', this.id, m.from, this.term), index: m.index, reject: true, rejectHint: hint });
    }
  }

  /**
   * InstallSnapshot (§7). A snapshot at or below our commit index says nothing new;
   * one whose last entry we already hold only advances the commit index; otherwise
   * the log is replaced and the driver installs the snapshot (Ready.snapshot)
   * before anything after it.
   */
  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (!s) return;
    const { index, term } = s.meta;
    if (index <= this.log.committed) {
      this.send({ ...emptyMessage('AppResp', this.id, m.from, this.term), index: this.log.committed });
      return;
    }
    if (this.log.matchTerm(index, term)) {
      this.log.commitTo(index);
      this.send({ ...emptyMessage('AppResp', this.id, m.from, this.term), index: this.log.committed });
      return;
    }
    this.log.restore(index, term);
    this.voters = new Set(s.meta.voters);
    this.snapshot = s;
    this.pendingSnapshot = s;
    this.send({ ...emptyMessage('AppResp', this.id, m.from, this.term), index: this.log.lastIndex() });
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ ...emptyMessage('HeartbeatResp', this.id, m.from, this.term), context: m.context });
  }

  // ---------------------------------------------------------------- leader

  private appendEntries(ents: Entry[]): void {
    let idx = this.log.lastIndex();
    for (const e of ents) {
      e.index = ++idx;
      e.term = this.term;
    }
    this.log.appendNew(ents);
    // The leader's own copy counts toward commitment only once it is on stable
    // storage (advance), so its appends may go out while it persists
    // (dissertation §10.2.1: the leader writes its disk in parallel).
    this.bcastAppend();
  }

  /**
   * §5.3/§5.4.2: the leader commits the highest index replicated on a quorum,
   * but only if that entry is from its current term (Figure 8).
   */
  private maybeCommit(): boolean {
    if (this.voters.size === 0) return false;
    const matches = [...this.voters].map((p) => this.prs.get(p)?.match ?? 0).sort((a, b) => b - a);
    const q = matches[this.quorum() - 1];
    if (q > this.log.committed && this.log.term(q) === this.term) {
      this.log.commitTo(q);
      if (this.readsAwaitingCommit.length > 0 && this.committedEntryInCurrentTerm()) {
        const waiting = this.readsAwaitingCommit;
        this.readsAwaitingCommit = [];
        for (const ctx of waiting) this.addRead(ctx);
      }
      return true;
    }
    return false;
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private bcastAppend(): void {
    for (const p of this.prs.keys()) if (p !== this.id) this.sendAppendLoop(p, true);
  }

  /**
   * Send appends to `to` while it is not paused and has entries to receive
   * (pipelining in Replicate). An empty append (carrying only the commit index)
   * is sent when `sendIfEmpty`, and always as a probe in Probe state.
   */
  private sendAppendLoop(to: NodeId, sendIfEmpty: boolean): void {
    const pr = this.prs.get(to)!;
    let first = true;
    while (!pr.isPaused()) {
      const hasEntries = pr.next <= this.log.lastIndex();
      if (!hasEntries && !(first && (sendIfEmpty || pr.state === 'Probe'))) break;
      this.sendAppend(to);
      first = false;
      if (pr.state === 'Probe') break;
    }
  }

  /** One AppendEntries to `to` starting at its nextIndex (may be empty, to carry commit). */
  private sendAppend(to: NodeId): void {
    const pr = this.prs.get(to)!;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined || pr.next < this.log.firstIndex()) {
      // §7: the entries it needs are compacted; send the snapshot instead.
      this.sendSnapshot(to, pr);
      return;
    }
    const entries = this.log.slice(pr.next, this.log.lastIndex() + 1, this.maxEntriesPerMsg, this.maxBytesPerMsg);
    this.send({
      ...emptyMessage('App', this.id, to, this.term),
      index: prevIndex,
      logTerm: prevTerm,
      entries,
      commit: this.log.committed,
    });
    pr.sentEntries(prevIndex + entries.length, entries.length);
  }

  private sendSnapshot(to: NodeId, pr: Progress): void {
    if (!this.snapshot) throw new Error(`raft: entries for ${to} are compacted but no snapshot is known`);
    this.send({ ...emptyMessage('Snap', this.id, to, this.term), snapshot: this.snapshot });
    pr.becomeSnapshot(this.snapshot.meta.index);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(emptyMessage('TimeoutNow', this.id, to, this.term));
  }

  private bcastHeartbeat(): void {
    for (const [p, pr] of this.prs) {
      if (p === this.id) continue;
      this.send({
        ...emptyMessage('Heartbeat', this.id, p, this.term),
        // Never tell a follower to commit past what it is known to hold.
        commit: Math.min(pr.match, this.log.committed),
        context: this.readSeq,
      });
    }
  }

  private quorumActive(): boolean {
    let active = 0;
    for (const [id, pr] of this.prs) {
      if (id === this.id || pr.recentActive) active++;
      if (id !== this.id) pr.recentActive = false;
    }
    return active >= this.quorum();
  }

  private addRead(ctx: number): void {
    if (this.voters.size === 1 && this.voters.has(this.id)) {
      this.readStates.push({ index: this.log.committed, ctx });
      return;
    }
    this.readSeq++;
    this.pendingReads.push({ seq: this.readSeq, index: this.log.committed, ctx });
    this.bcastHeartbeat();
  }

  /** A read registered at sequence s is confirmed once a quorum answered a heartbeat sent at or after s. */
  private releaseReads(): void {
    while (this.pendingReads.length > 0) {
      const r = this.pendingReads[0];
      let acks = 0;
      for (const [id, pr] of this.prs) if (id === this.id || pr.readAck >= r.seq) acks++;
      if (acks < this.quorum()) break;
      this.pendingReads.shift();
      this.readStates.push({ index: r.index, ctx: r.ctx });
    }
  }

  private send(m: Message): void {
    this.msgs.push(m);
  }

  private assertNotInReady(): void {
    if (this.readyInFlight) throw new Error('raft: input between ready() and advance()');
  }
}
