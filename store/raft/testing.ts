import { Raft, type RaftConfig } from './raft';
import { randInt, seededRng } from './rng';
import type { Entry, HardState, Message, NodeId } from './types';

/**
 * A whole Raft cluster in memory, driven deterministically by one seed: a lossy,
 * reordering, partitionable network; crash and restart from the simulated disk;
 * and a checker that asserts Raft's safety properties (Figure 3) after every
 * step. Used by the core's simulation tests; nothing here is used in production.
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
}

interface Disk {
  hs: HardState;
  entries: Entry[];
}

interface SimNode {
  id: NodeId;
  raft: Raft | undefined; // undefined while crashed
  disk: Disk;
  /** What this incarnation applied, by index. */
  appliedCount: number;
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

  // Checker state.
  /** Election Safety: at most one leader per term. */
  private leaderOfTerm = new Map<number, NodeId>();
  /** Terms of each leader's log at the moment it became leader (for Leader Completeness). */
  private leaderLogTerms = new Map<number, number[]>();
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
      ...opts,
    };
    this.rng = seededRng(opts.seed);
    this.ids = Array.from({ length: this.opts.nodes }, (_, i) => `n${i + 1}`);
    for (const id of this.ids) {
      const node: SimNode = { id, raft: undefined, disk: { hs: { term: 0, vote: '', commit: 0 }, entries: [] }, appliedCount: 0 };
      this.nodes.set(id, node);
      this.boot(node);
    }
  }

  setNetwork(o: { dropRate?: number; dupRate?: number; maxDelay?: number }): void {
    Object.assign(this.opts, o);
  }

  private boot(node: SimNode): void {
    const cfg: RaftConfig = {
      id: node.id,
      peers: this.ids,
      electionTick: this.opts.electionTick,
      heartbeatTick: this.opts.heartbeatTick,
      rng: seededRng(Math.floor(this.rng() * 2 ** 31)),
      preVote: this.opts.preVote,
      checkQuorum: this.opts.checkQuorum,
      maxEntriesPerMsg: this.opts.maxEntriesPerMsg,
      hardState: { ...node.disk.hs },
      entries: node.disk.entries.slice(),
    };
    node.raft = new Raft(cfg);
    node.appliedCount = 0;
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
      // 1. persist hard state + entries atomically.
      if (rd.hardState) {
        const prevCommit = node.disk.hs.commit;
        if (rd.hardState.commit < prevCommit) this.fail(`${id}: persisted commit went back ${prevCommit} -> ${rd.hardState.commit}`);
        node.disk.hs = { ...rd.hardState };
      }
      if (rd.entries.length > 0) {
        const first = rd.entries[0].index;
        node.disk.entries.length = Math.min(node.disk.entries.length, first - 1);
        if (node.disk.entries.length !== first - 1) this.fail(`${id}: gap in persisted log before ${first}`);
        node.disk.entries.push(...rd.entries);
      }
      // Election Safety + Leader Completeness are checked when a leader appears.
      if (rd.softState?.state === 'Leader') this.onLeader(id, r);
      // 2. send.
      for (const m of rd.messages) this.enqueue(m);
      // 3. apply.
      for (const e of rd.committedEntries) this.onApply(node, e);
      // 4. read states.
      for (const rs of rd.readStates) this.readStates.push({ id, ...rs });
      r.advance(rd);
    }
    if (r.state === 'Leader') this.onLeaderCommit(id, r);
    const c = r.log.committed;
    if (c < (this.committedMax.get(id) ?? 0) && node.disk.hs.commit >= c) {
      // A restarted node starts from its persisted commit; never below it.
      this.fail(`${id}: commit index went back`);
    }
    this.committedMax.set(id, Math.max(c, this.committedMax.get(id) ?? 0));
  }

  private enqueue(m: Message): void {
    if (this.cut.has(`${m.from}|${m.to}`)) return;
    if (this.rng() < this.opts.dropRate) return;
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
    const terms: number[] = [0];
    for (let i = 1; i <= r.log.lastIndex(); i++) terms.push(r.log.term(i)!);
    this.leaderLogTerms.set(r.term, terms);
    this.leaderCommitSeen.set(`${id}@${r.term}`, r.log.committed);
    // Leader Completeness (§5.4): every entry committed in an earlier term is in the new leader's log.
    for (const [idx, c] of this.commits) {
      if (c.commitTerm < r.term && terms[idx] !== c.entryTerm) {
        this.fail(`Leader Completeness (§5.4): leader ${id}@${r.term} lacks ${idx}@${c.entryTerm} committed in term ${c.commitTerm}`);
      }
    }
  }

  /** A leader advanced its commit index: record in which term each index became committed. */
  private onLeaderCommit(id: NodeId, r: Raft): void {
    const key = `${id}@${r.term}`;
    const from = this.leaderCommitSeen.get(key) ?? r.log.committed;
    for (let idx = from + 1; idx <= r.log.committed; idx++) {
      const entryTerm = r.log.term(idx)!;
      const c = this.commits.get(idx);
      if (c && c.entryTerm !== entryTerm) this.fail(`State Machine Safety (§5.4.3): index ${idx} committed as ${c.entryTerm} and ${entryTerm}`);
      if (c && c.commitTerm <= r.term) continue;
      this.commits.set(idx, { commitTerm: r.term, entryTerm });
      for (const [term, terms] of this.leaderLogTerms) {
        if (term > r.term && terms[idx] !== entryTerm) {
          this.fail(`Leader Completeness (§5.4): leader of term ${term} lacks ${idx}@${entryTerm} committed in term ${r.term}`);
        }
      }
    }
    this.leaderCommitSeen.set(key, r.log.committed);
  }

  private onApply(node: SimNode, e: Entry): void {
    // Apply only after persist.
    const d = node.disk.entries[e.index - 1];
    if (!d || d.term !== e.term) this.fail(`${node.id}: applied ${e.index}@${e.term} before it was persisted`);
    if (e.index !== node.appliedCount + 1) this.fail(`${node.id}: applied ${e.index} after ${node.appliedCount}`);
    node.appliedCount = e.index;
    const v = `${e.term}:${Buffer.from(e.data).toString()}`;
    const seen = this.appliedAt.get(e.index);
    if (seen !== undefined && seen !== v) this.fail(`State Machine Safety (§5.4.3): index ${e.index} applied as ${seen} and ${v} (${node.id})`);
    this.appliedAt.set(e.index, v);
  }

  /** Log Matching (§5.3): if two logs hold an entry with the same index and term, they are identical up to it. */
  checkLogMatching(): void {
    const logs = this.ids.map((id) => ({ id, ents: this.nodes.get(id)!.disk.entries }));
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const x = logs[a].ents;
        const y = logs[b].ents;
        let i = Math.min(x.length, y.length) - 1;
        while (i >= 0 && x[i].term !== y[i].term) i--;
        for (; i >= 0; i--) {
          if (x[i].term !== y[i].term || Buffer.compare(Buffer.from(x[i].data), Buffer.from(y[i].data)) !== 0) {
            this.fail(`Log Matching (§5.3): ${logs[a].id} and ${logs[b].id} differ at ${i + 1}`);
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
