import { type ConfChange, encodeConfChange } from './confchange';
import type { RaftConfig } from './config';
import { Raft } from './raft';
import { randInt, seededRng } from './rng';
import type { Entry, HardState, Message, NodeId, Snapshot } from './types';

/**
 * A whole Raft cluster in memory, driven deterministically by one seed: a lossy,
 * reordering, partitionable network; crash and restart from the simulated disk;
 * snapshots and log compaction every `snapshotCount` applied entries (§7);
 * membership changes (§4.1) and leader transfer (§3.10); and a checker that
 * asserts Raft's safety properties (Figure 3) after every step. Used by the
 * core's simulation tests; nothing here is used in production.
 *
 * Like the production store, a new cluster's log starts with one ConfChange
 * AddNode entry per initial member (committed, term 1), so a member that joins
 * later learns the whole configuration from the log or a snapshot.
 */

export interface SimOptions {
  seed: number;
  nodes?: number;
  electionTick?: number;
  heartbeatTick?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /** Probability a message is dropped / duplicated. */
  dropRate?: number;
  dupRate?: number;
  /** Max extra delivery delay in steps (reordering). */
  maxDelay?: number;
  maxEntriesPerMsg?: number;
  /** Take a snapshot and compact the log every this many applied entries (0 = never). */
  snapshotCount?: number;
  /** Entries kept below the snapshot index when compacting (etcd's catch-up entries). */
  catchUpEntries?: number;
}

interface Disk {
  hs: HardState;
  snap?: Snapshot;
  /** Index just before entries[0]. */
  base: number;
  entries: Entry[];
}

interface SimNode {
  id: NodeId;
  raft: Raft | undefined; // undefined while crashed
  disk: Disk;
  /** The state machine: the value applied at each index 1..n (index i at sm[i-1]). */
  sm: string[];
  /** Whether this node is one of the initial members (bootstrapped) or joined later. */
  initial: boolean;
}

interface InFlight {
  at: number;
  seq: number;
  msg: Message;
}

export class SafetyViolation extends Error {}

export class SimCluster {
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, SimNode>();
  readonly rng: () => number;
  now = 0;
  private seq = 0;
  private net: InFlight[] = [];
  /** Pairs "a|b" that cannot talk (both directions are listed). */
  private cut = new Set<string>();
  private opts: Required<SimOptions>;
  private proposalCounter = 0;
  /** Snapshot delivery reports the "transport" owes senders (delivered or dropped). */
  private snapReports: { from: NodeId; to: NodeId; ok: boolean }[] = [];

  // Checker state.
  /** Election Safety: at most one leader per term. */
  private leaderOfTerm = new Map<number, NodeId>();
  /** Terms of each leader's log at the moment it became leader (for Leader Completeness). */
  private leaderLogTerms = new Map<number, (number | undefined)[]>();
  /** State Machine Safety: what was applied at each index, by anyone. */
  private appliedAt = new Map<number, string>();
  /** For each committed index: the lowest term in which a leader committed it, and the entry's term. */
  private commits = new Map<number, { commitTerm: number; entryTerm: number }>();
  private leaderCommitSeen = new Map<string, number>();
  private committedMax = new Map<NodeId, number>();
  readonly proposed: string[] = [];
  /** Every ReadState released, in order. */
  readonly readStates: { id: NodeId; index: number; ctx: number }[] = [];

  constructor(opts: SimOptions) {
    this.opts = {
      nodes: 3,
      electionTick: 10,
      heartbeatTick: 1,
      preVote: true,
      checkQuorum: true,
      dropRate: 0,
      dupRate: 0,
      maxDelay: 0,
      maxEntriesPerMsg: 4,
      snapshotCount: 0,
      catchUpEntries: 0,
      ...opts,
    };
    this.rng = seededRng(opts.seed);
    this.ids = Array.from({ length: this.opts.nodes }, (_, i) => `n${i + 1}`);
    const bootstrap: Entry[] = this.ids.map((id, i) => ({
      term: 1,
      index: i + 1,
      type: 'ConfChange' as const,
      data: encodeConfChange({ type: 'AddNode', nodeId: id, context: '' }),
    }));
    for (const id of this.ids) {
      const disk: Disk = { hs: { term: 1, vote: '', commit: bootstrap.length }, base: 0, entries: bootstrap.slice() };
      const node: SimNode = { id, raft: undefined, disk, sm: [], initial: true };
      this.nodes.set(id, node);
      this.boot(node);
    }
  }

  /**
   * Create a new, empty server that knows no configuration (like a store member
   * started with --initial-cluster-state existing). It joins once a leader
   * commits an AddNode for it (`proposeConfChange`).
   */
  addServer(): NodeId {
    const id = `n${this.ids.length + 1}`;
    this.ids.push(id);
    const node: SimNode = { id, raft: undefined, disk: { hs: { term: 0, vote: '', commit: 0 }, base: 0, entries: [] }, sm: [], initial: false };
    this.nodes.set(id, node);
    this.boot(node);
    return id;
  }

  /** Propose a membership change at `id`; returns the core's answer (index, 0 = not leader, -1 = one pending). */
  proposeConfChange(id: NodeId, cc: ConfChange): number {
    const r = this.nodes.get(id)!.raft;
    if (!r) return 0;
    const res = r.proposeConfChange(cc);
    this.drain(id);
    return res;
  }

  transferLeader(from: NodeId, to: NodeId): boolean {
    const r = this.nodes.get(from)!.raft;
    if (!r) return false;
    const ok = r.transferLeader(to);
    this.drain(from);
    return ok;
  }

  setNetwork(o: { dropRate?: number; dupRate?: number; maxDelay?: number }): void {
    Object.assign(this.opts, o);
  }

  private boot(node: SimNode): void {
    const cfg: RaftConfig = {
      id: node.id,
      peers: node.initial ? this.ids.slice(0, this.opts.nodes) : [],
      electionTick: this.opts.electionTick,
      heartbeatTick: this.opts.heartbeatTick,
      rng: seededRng(Math.floor(this.rng() * 2 ** 31)),
      preVote: this.opts.preVote,
      checkQuorum: this.opts.checkQuorum,
      maxEntriesPerMsg: this.opts.maxEntriesPerMsg,
      snapshot: node.disk.snap,
      hardState: { ...node.disk.hs },
      entries: node.disk.entries.slice(),
    };
    node.raft = new Raft(cfg);
    // The state machine restarts from the snapshot; the core re-delivers the rest.
    node.sm = node.disk.snap ? (JSON.parse(Buffer.from(node.disk.snap.data).toString()) as string[]) : [];
  }

  raft(id: NodeId): Raft {
    const r = this.nodes.get(id)!.raft;
    if (!r) throw new Error(`${id} is crashed`);
    return r;
  }

  alive(id: NodeId): boolean {
    return this.nodes.get(id)!.raft !== undefined;
  }

  crash(id: NodeId): void {
    this.nodes.get(id)!.raft = undefined;
    for (const f of this.net) if (f.msg.to === id && f.msg.type === 'Snap') this.snapReports.push({ from: f.msg.from, to: id, ok: false });
    this.net = this.net.filter((f) => f.msg.to !== id);
  }

  restart(id: NodeId): void {
    const node = this.nodes.get(id)!;
    if (!node.raft) this.boot(node);
  }

  /** Cut every link between `group` and the rest. */
  partition(group: NodeId[]): void {
    for (const a of group) for (const b of this.ids) if (!group.includes(b)) this.cutLink(a, b);
  }

  isolate(id: NodeId): void {
    this.partition([id]);
  }

  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}|${b}`);
    this.cut.add(`${b}|${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** The unique live leader of the highest term, if any. */
  leader(): NodeId | undefined {
    let best: { id: NodeId; term: number } | undefined;
    for (const [id, n] of this.nodes) {
      if (n.raft?.state === 'Leader' && (!best || n.raft.term > best.term)) best = { id, term: n.raft.term };
    }
    return best?.id;
  }

  /** Propose a unique command at `id` (if it is leader). Returns whether it was accepted. */
  propose(id: NodeId): boolean {
    const r = this.nodes.get(id)!.raft;
    if (!r) return false;
    const cmd = `c${++this.proposalCounter}`;
    const ok = r.propose([Buffer.from(cmd)]) > 0;
    if (ok) this.proposed.push(cmd);
    return ok;
  }

  /** One step of simulated time: every live node ticks, due messages are delivered, every Ready is handled. */
  step(): void {
    this.now++;
    const reports = this.snapReports;
    this.snapReports = [];
    for (const rep of reports) {
      const r = this.nodes.get(rep.from)!.raft;
      if (!r) continue;
      r.reportSnapshot(rep.to, rep.ok);
      this.drain(rep.from);
    }
    for (const id of this.ids) {
      const r = this.nodes.get(id)!.raft;
      if (r) r.tick();
      this.drain(id);
    }
    // Deliver due messages in (time, random) order.
    const due = this.net.filter((f) => f.at <= this.now);
    this.net = this.net.filter((f) => f.at > this.now);
    due.sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const f of due) {
      const r = this.nodes.get(f.msg.to)!.raft;
      if (f.msg.type === 'Snap') this.snapReports.push({ from: f.msg.from, to: f.msg.to, ok: r !== undefined });
      if (!r) continue;
      r.step(f.msg);
      this.drain(f.msg.to);
    }
  }

  run(steps: number, each?: () => void): void {
    for (let i = 0; i < steps; i++) {
      this.step();
      each?.();
    }
  }

  runUntil(pred: () => boolean, maxSteps: number): boolean {
    for (let i = 0; i < maxSteps; i++) {
      if (pred()) return true;
      this.step();
    }
    return pred();
  }

  /** Handle all Readys of a node exactly as the production driver does (types.ts contract). */
  drain(id: NodeId): void {
    const node = this.nodes.get(id)!;
    const r = node.raft;
    if (!r) return;
    while (r.hasReady()) {
      const rd = r.ready();
      // 0. a snapshot from the leader replaces the stored log.
      if (rd.snapshot) {
        node.disk.snap = rd.snapshot;
        node.disk.base = rd.snapshot.meta.index;
        node.disk.entries = [];
      }
      // 1. persist hard state + entries atomically.
      if (rd.hardState) {
        const prevCommit = node.disk.hs.commit;
        if (rd.hardState.commit < prevCommit) this.fail(`${id}: persisted commit went back ${prevCommit} -> ${rd.hardState.commit}`);
        node.disk.hs = { ...rd.hardState };
      }
      if (rd.entries.length > 0) {
        const first = rd.entries[0].index;
        const d = node.disk;
        if (first - 1 < d.base) this.fail(`${id}: persisting ${first} below the compaction point ${d.base}`);
        d.entries.length = Math.min(d.entries.length, first - 1 - d.base);
        if (d.entries.length !== first - 1 - d.base) this.fail(`${id}: gap in persisted log before ${first}`);
        d.entries.push(...rd.entries);
      }
      // Election Safety + Leader Completeness are checked when a leader appears.
      if (rd.softState?.state === 'Leader') this.onLeader(id, r);
      // 2. send.
      for (const m of rd.messages) this.enqueue(m);
      // 3. apply (a snapshot first).
      if (rd.snapshot) this.onRestore(node, rd.snapshot);
      for (const e of rd.committedEntries) this.onApply(node, e);
      // 4. read states.
      for (const rs of rd.readStates) this.readStates.push({ id, ...rs });
      r.advance(rd);
    }
    if (r.state === 'Leader') this.onLeaderCommit(id, r);
    this.maybeSnapshot(node, r);
    const c = r.log.committed;
    if (c < (this.committedMax.get(id) ?? 0) && node.disk.hs.commit >= c) {
      // A restarted node starts from its persisted commit; never below it.
      this.fail(`${id}: commit index went back`);
    }
    this.committedMax.set(id, Math.max(c, this.committedMax.get(id) ?? 0));
  }

  /** Snapshot the state machine at the applied index and compact the log, in the durable order (snapshot, then truncation). */
  private maybeSnapshot(node: SimNode, r: Raft): void {
    const every = this.opts.snapshotCount;
    const applied = r.log.applied;
    if (every <= 0 || applied - (node.disk.snap?.meta.index ?? 0) < every) return;
    const snap: Snapshot = {
      meta: { index: applied, term: r.log.term(applied)!, voters: r.confVoters() },
      data: Buffer.from(JSON.stringify(node.sm.slice(0, applied))),
    };
    node.disk.snap = snap;
    const compactTo = Math.max(applied - this.opts.catchUpEntries, node.disk.base);
    node.disk.entries.splice(0, compactTo - node.disk.base);
    node.disk.base = compactTo;
    r.compact(snap, compactTo);
  }

  private enqueue(m: Message): void {
    const lost = this.cut.has(`${m.from}|${m.to}`) || this.rng() < this.opts.dropRate;
    if (lost) {
      if (m.type === 'Snap') this.snapReports.push({ from: m.from, to: m.to, ok: false });
      return;
    }
    const copies = this.rng() < this.opts.dupRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = 1 + (this.opts.maxDelay > 0 ? randInt(this.rng, 0, this.opts.maxDelay + 1) : 0);
      this.net.push({ at: this.now + delay, seq: this.seq++, msg: { ...m, entries: m.entries.slice() } });
    }
  }

  private onLeader(id: NodeId, r: Raft): void {
    const prev = this.leaderOfTerm.get(r.term);
    if (prev !== undefined && prev !== id) this.fail(`Election Safety (§5.2): ${prev} and ${id} both leaders of term ${r.term}`);
    this.leaderOfTerm.set(r.term, id);
    // Terms of the leader's log; compacted entries (index < firstIndex) are
    // covered by its snapshot, i.e. committed and applied, and are not compared.
    const terms: (number | undefined)[] = [0];
    for (let i = 1; i <= r.log.lastIndex(); i++) terms.push(i < r.log.firstIndex() ? undefined : r.log.term(i)!);
    this.leaderLogTerms.set(r.term, terms);
    this.leaderCommitSeen.set(`${id}@${r.term}`, r.log.committed);
    // Leader Completeness (§5.4): every entry committed in an earlier term is in the new leader's log.
    for (const [idx, c] of this.commits) {
      if (c.commitTerm < r.term && (idx > r.log.lastIndex() || (terms[idx] !== undefined && terms[idx] !== c.entryTerm))) {
        this.fail(`Leader Completeness (§5.4): leader ${id}@${r.term} lacks ${idx}@${c.entryTerm} committed in term ${c.commitTerm}`);
      }
    }
  }

  /** A leader advanced its commit index: record in which term each index became committed. */
  private onLeaderCommit(id: NodeId, r: Raft): void {
    const key = `${id}@${r.term}`;
    const from = this.leaderCommitSeen.get(key) ?? r.log.committed;
    for (let idx = from + 1; idx <= r.log.committed; idx++) {
      const entryTerm = r.log.term(idx);
      if (entryTerm === undefined) continue; // compacted meanwhile (already recorded)
      const c = this.commits.get(idx);
      if (c && c.entryTerm !== entryTerm) this.fail(`State Machine Safety (§5.4.3): index ${idx} committed as ${c.entryTerm} and ${entryTerm}`);
      if (c && c.commitTerm <= r.term) continue;
      this.commits.set(idx, { commitTerm: r.term, entryTerm });
      for (const [term, terms] of this.leaderLogTerms) {
        if (term > r.term && terms[idx] !== undefined && terms[idx] !== entryTerm) {
          this.fail(`Leader Completeness (§5.4): leader of term ${term} lacks ${idx}@${entryTerm} committed in term ${r.term}`);
        }
      }
    }
    this.leaderCommitSeen.set(key, r.log.committed);
  }

  private onApply(node: SimNode, e: Entry): void {
    // Apply only after persist.
    const d = node.disk.entries[e.index - 1 - node.disk.base];
    if (!d || d.term !== e.term) this.fail(`${node.id}: applied ${e.index}@${e.term} before it was persisted`);
    if (e.index !== node.sm.length + 1) this.fail(`${node.id}: applied ${e.index} after ${node.sm.length}`);
    const v = `${e.term}:${e.type === 'ConfChange' ? 'cc' : ''}${Buffer.from(e.data).toString()}`;
    node.sm.push(v);
    this.checkApplied(node.id, e.index, v);
  }

  /** InstallSnapshot (§7): the state machine becomes the snapshot's, which must agree with everything applied anywhere. */
  private onRestore(node: SimNode, snap: Snapshot): void {
    if (node.disk.snap !== snap) this.fail(`${node.id}: applied a snapshot before persisting it`);
    const sm = JSON.parse(Buffer.from(snap.data).toString()) as string[];
    if (sm.length !== snap.meta.index) this.fail(`${node.id}: snapshot at ${snap.meta.index} holds ${sm.length} entries`);
    if (sm.length < node.sm.length) this.fail(`${node.id}: snapshot ${snap.meta.index} would move the state machine back from ${node.sm.length}`);
    for (let i = 0; i < sm.length; i++) this.checkApplied(node.id, i + 1, sm[i]);
    node.sm = sm;
  }

  private checkApplied(id: NodeId, index: number, v: string): void {
    const seen = this.appliedAt.get(index);
    if (seen !== undefined && seen !== v) this.fail(`State Machine Safety (§5.4.3): index ${index} applied as ${seen} and ${v} (${id})`);
    this.appliedAt.set(index, v);
  }

  /** Log Matching (§5.3): if two logs hold an entry with the same index and term, they are identical up to it. */
  checkLogMatching(): void {
    const logs = this.ids.map((id) => ({ id, disk: this.nodes.get(id)!.disk }));
    const at = (d: Disk, i: number): Entry | undefined => d.entries[i - 1 - d.base];
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const x = logs[a].disk;
        const y = logs[b].disk;
        const lo = Math.max(x.base, y.base) + 1;
        let i = Math.min(x.base + x.entries.length, y.base + y.entries.length);
        while (i >= lo && at(x, i)!.term !== at(y, i)!.term) i--;
        for (; i >= lo; i--) {
          const ex = at(x, i)!;
          const ey = at(y, i)!;
          if (ex.term !== ey.term || Buffer.compare(Buffer.from(ex.data), Buffer.from(ey.data)) !== 0) {
            this.fail(`Log Matching (§5.3): ${logs[a].id} and ${logs[b].id} differ at ${i}`);
          }
        }
      }
    }
  }

  appliedValues(): Map<number, string> {
    return this.appliedAt;
  }

  private fail(msg: string): never {
    throw new SafetyViolation(`seed ${this.opts.seed} step ${this.now}: ${msg}`);
  }
}
