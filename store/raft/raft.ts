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
  type SoftState,
  type StateType,
  emptyMessage,
  isHardStateEqual,
} from './types';

export interface RaftConfig {
  id: NodeId;
  /** All voting members, including `id`. Fixed until membership changes (§6) are added. */
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
  /** Unacknowledged appends per follower in Replicate state (pipelining). */
  maxInflightMsgs?: number;
  /** What stable storage holds at start (restart). */
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
  readonly peers: NodeId[];
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
  private readonly maxInflight: number;

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
    if (!cfg.peers.includes(cfg.id)) throw new Error(`raft: peers must include self (${cfg.id})`);
    if (cfg.heartbeatTick <= 0 || cfg.electionTick <= cfg.heartbeatTick) {
      throw new Error('raft: need 0 < heartbeatTick < electionTick');
    }
    this.id = cfg.id;
    this.peers = [...new Set(cfg.peers)].sort();
    this.electionTimeout = cfg.electionTick;
    this.heartbeatTimeout = cfg.heartbeatTick;
    this.rng = cfg.rng;
    this.preVote = cfg.preVote ?? true;
    this.checkQuorum = cfg.checkQuorum ?? true;
    this.maxEntriesPerMsg = cfg.maxEntriesPerMsg ?? 512;
    this.maxInflight = cfg.maxInflightMsgs ?? 256;
    const hs = cfg.hardState ?? { term: 0, vote: NONE, commit: 0 };
    this.log = new RaftLog(cfg.entries ?? [], hs.commit);
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
      this.hup();
    }
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
    if (this.state !== 'Leader' || datas.length === 0) return 0;
    const first = this.log.lastIndex() + 1;
    this.appendEntries(datas.map((data) => ({ term: this.term, index: 0, type: 'Normal' as const, data })));
    return first;
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
    if (m.to !== this.id || m.from === this.id || !this.peers.includes(m.from)) return;

    if (m.term > this.term) {
      if (m.type === 'Vote' || m.type === 'PreVote') {
        // Leader lease (dissertation §4.2.3): while we hear from a live leader,
        // ignore vote requests so a removed or partitioned server cannot depose it.
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        if (inLease) return;
      }
      if (m.type === 'PreVote') {
        // Pre-vote never changes our term.
      } else if (m.type === 'PreVoteResp' && !m.reject) {
        // A granted pre-vote carries the term we would campaign for; not a newer term.
      } else {
        // §5.1: a higher term makes us follower of that term.
        const lead = m.type === 'App' || m.type === 'Heartbeat' ? m.from : NONE;
        this.becomeFollower(m.term, lead);
      }
    } else if (m.term < this.term) {
      // §5.1: reply to a stale sender with our term so it steps down.
      if (m.type === 'App' || m.type === 'Heartbeat') {
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
    const hs = this.hardState();
    if (!isHardStateEqual(hs, this.prevHardState)) rd.hardState = hs;
    const ss = this.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.state !== this.prevSoftState.state) rd.softState = ss;
    this.msgs = [];
    this.readStates = [];
    this.readyInFlight = true;
    return rd;
  }

  /** The driver has persisted, sent and applied everything in `rd`. */
  advance(rd: Ready): void {
    if (!this.readyInFlight) throw new Error('raft: advance without ready');
    this.readyInFlight = false;
    if (rd.hardState) this.prevHardState = rd.hardState;
    if (rd.softState) this.prevSoftState = rd.softState;
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      this.log.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      this.log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
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
    const p = this.prs.get(id);
    return p && { match: p.match, next: p.next, state: p.state };
  }

  // ---------------------------------------------------------------- roles

  private quorum(): number {
    return Math.floor(this.peers.length / 2) + 1;
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
    for (const p of this.peers) {
      const pr = new Progress(this.log.lastIndex() + 1, this.maxInflight);
      if (p === this.id) pr.match = this.log.lastIndex();
      this.prs.set(p, pr);
    }
    // §8 / dissertation §6.4: a no-op entry of the new term lets the leader learn
    // the commit index (§5.4.2 commits only entries of its own term by counting).
    this.appendEntries([{ term: this.term, index: 0, type: 'Normal', data: new Uint8Array(0) }]);
  }

  private hup(): void {
    if (this.state === 'Leader') return;
    this.campaignFor(this.preVote ? 'PreVote' : 'Vote');
  }

  private campaignFor(kind: 'PreVote' | 'Vote'): void {
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
    for (const p of this.peers) {
      if (p === this.id) continue;
      this.send({
        ...emptyMessage(kind, this.id, p, voteTerm),
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
      });
    }
  }

  private recordVote(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(id)) this.votes.set(id, granted);
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
          if (pr.state === 'Probe') pr.becomeReplicate();
          if (this.maybeCommit()) {
            this.bcastAppend();
          } else {
            this.sendAppendLoop(m.from, false);
          }
        } else if (wasPaused) {
          this.sendAppendLoop(m.from, false);
        }
        break;
      }
      case 'HeartbeatResp': {
        pr.recentActive = true;
        pr.probeSent = false;
        // A follower behind us may have lost appends sent optimistically in
        // Replicate; an (even empty) append makes it reject and re-probe.
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
    this.prs.get(this.id)!.maybeUpdate(this.log.lastIndex());
    // A single-node cluster commits by itself; otherwise this is a no-op.
    this.maybeCommit();
    this.bcastAppend();
  }

  /**
   * §5.3/§5.4.2: the leader commits the highest index replicated on a quorum,
   * but only if that entry is from its current term (Figure 8).
   */
  private maybeCommit(): boolean {
    const matches = this.peers.map((p) => this.prs.get(p)!.match).sort((a, b) => b - a);
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
    for (const p of this.peers) if (p !== this.id) this.sendAppendLoop(p, true);
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
    if (prevTerm === undefined) {
      // Needs InstallSnapshot (§7), which arrives with log compaction.
      throw new Error(`raft: entry ${prevIndex} for ${to} is compacted; snapshots not implemented`);
    }
    const entries = this.log.slice(pr.next, this.log.lastIndex() + 1, this.maxEntriesPerMsg);
    this.send({
      ...emptyMessage('App', this.id, to, this.term),
      index: prevIndex,
      logTerm: prevTerm,
      entries,
      commit: this.log.committed,
    });
    pr.sentEntries(prevIndex + entries.length, entries.length);
  }

  private bcastHeartbeat(): void {
    for (const p of this.peers) {
      if (p === this.id) continue;
      const pr = this.prs.get(p)!;
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
    if (this.peers.length === 1) {
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
