import { type ConfChange, decodeConfChange, encodeConfChange } from './confchange';
import type { RaftConfig } from './config';
import { RaftRoles } from './roles';
import { type Entry, type HardState, type Message, type NodeId, NONE, type Ready, type Snapshot, type SoftState, emptyMessage, isHardStateEqual } from './types';

/**
 * The Raft consensus core as a deterministic state machine. It has no timers,
 * sockets or disk: time advances by `tick()`, input arrives by `step(msg)`,
 * `propose(data)` and `readIndex(ctx)`, and all output is collected into a
 * `Ready` (see types.ts for the ordering contract) consumed with `ready()` /
 * `advance()`. This file is the driver-facing API (inputs, Ready/advance); the
 * protocol behind it (roles, replication, snapshots, reads, membership) is in
 * roles.ts.
 */
export class Raft extends RaftRoles {
  // What the driver has already been given.
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private readyInFlight = false;

  constructor(cfg: RaftConfig) {
    super(cfg);
    this.prevHardState = { ...(cfg.hardState ?? { term: 0, vote: NONE, commit: 0 }) };
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

  private assertNotInReady(): void {
    if (this.readyInFlight) throw new Error('raft: input between ready() and advance()');
  }
}
