import type { ConfChange } from './confchange';
import { RaftLog } from './log';
import { Progress } from './progress';
import type { RaftConfig } from './config';
import { randInt } from './rng';
import { type Entry, type Message, type MessageType, type NodeId, NONE, type ReadState, type Snapshot, type StateType, emptyMessage } from './types';

/**
 * The Raft protocol behind `Raft`'s driver-facing API (raft.ts): the state of one
 * server, role transitions (§5.2), elections with pre-vote (diss. §9.6), message
 * handling per role (follower, (pre-)candidate, leader), log replication and the
 * commit rule (§5.3, §5.4.2), InstallSnapshot (§7), read-index confirmation
 * (diss. §6.4) and applying membership changes (diss. §4.1). Deterministic: no
 * timers, sockets or disk; every output is a message queued in `msgs`.
 */
export abstract class RaftRoles {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  state: StateType = 'Follower';
  readonly log: RaftLog;

  protected readonly electionTimeout: number;
  protected readonly heartbeatTimeout: number;
  protected randomizedElectionTimeout = 0;
  protected electionElapsed = 0;
  protected heartbeatElapsed = 0;
  private readonly rng: () => number;
  private readonly preVote: boolean;
  protected readonly checkQuorum: boolean;
  private readonly maxEntriesPerMsg: number;
  private readonly maxBytesPerMsg: number;
  private readonly maxInflight: number;

  /** The configuration in force: voters as of the last applied ConfChange (or snapshot). */
  protected voters: Set<NodeId>;
  /** Latest snapshot (as given to `compact` or received from a leader); sent to followers that need compacted entries. */
  protected snapshot: Snapshot | undefined;
  /** A received snapshot the driver has not yet been handed in a Ready. */
  protected pendingSnapshot: Snapshot | undefined;
  /** Leader: index of the latest ConfChange it appended (or its no-op); another may not be proposed before it is applied (§4.1, one at a time). */
  protected pendingConfIndex = 0;
  /** Leader transfer target (dissertation §3.10), or NONE. */
  protected leadTransferee: NodeId = NONE;

  protected prs = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();
  protected msgs: Message[] = [];

  // Read index (dissertation §6.4).
  private readSeq = 0;
  private pendingReads: { seq: number; index: number; ctx: number }[] = [];
  /** Reads received before this leader committed an entry of its term; released once it has. */
  protected readsAwaitingCommit: number[] = [];
  protected readStates: ReadState[] = [];

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
    this.becomeFollower(hs.term, NONE);
  }

  /** The voting members, sorted. */
  get peers(): NodeId[] {
    return [...this.voters].sort();
  }

  /** Whether this node is a voter in its own configuration (only voters campaign). */
  promotable(): boolean {
    return this.voters.has(this.id);
  }

  // ---------------------------------------------------------------- roles

  private quorum(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  /** Apply a committed membership change to the configuration (single-server, §4.1). */
  protected applyConfChange(cc: ConfChange): void {
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

  protected becomeFollower(term: number, lead: NodeId): void {
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

  protected hup(transfer = false): void {
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

  protected handleVoteRequest(m: Message): void {
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

  protected stepFollower(m: Message): void {
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

  protected stepCandidate(m: Message): void {
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

  protected stepLeader(m: Message): void {
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

  protected appendEntries(ents: Entry[]): void {
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
  protected maybeCommit(): boolean {
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

  protected committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  protected bcastAppend(): void {
    for (const p of this.prs.keys()) if (p !== this.id) this.sendAppendLoop(p, true);
  }

  /**
   * Send appends to `to` while it is not paused and has entries to receive
   * (pipelining in Replicate). An empty append (carrying only the commit index)
   * is sent when `sendIfEmpty`, and always as a probe in Probe state.
   */
  protected sendAppendLoop(to: NodeId, sendIfEmpty: boolean): void {
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

  protected sendTimeoutNow(to: NodeId): void {
    this.send(emptyMessage('TimeoutNow', this.id, to, this.term));
  }

  protected bcastHeartbeat(): void {
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

  protected quorumActive(): boolean {
    let active = 0;
    for (const [id, pr] of this.prs) {
      if (id === this.id || pr.recentActive) active++;
      if (id !== this.id) pr.recentActive = false;
    }
    return active >= this.quorum();
  }

  protected addRead(ctx: number): void {
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

  protected send(m: Message): void {
    this.msgs.push(m);
  }
}
