import { Raft } from '../raft/raft';
import type { Entry, HardState, Message, NodeId, ReadState, SnapshotMeta, SoftState } from '../raft/types';
import type { Logger } from '../../lib/log';

/** Where Ready output goes. All callbacks are synchronous; `persist` is awaited. */
export interface RaftNodeIO {
  /** Durably write hard state + entries (one write; with `snapshot`, also make it the snapshot in force and drop the stored log). */
  persist(hs: HardState | undefined, entries: Entry[], snapshot?: SnapshotMeta): Promise<void>;
  /** Hand messages to the transport (must not block). */
  send(msgs: Message[]): void;
  /** Replace the state machine by the (already durable) snapshot `meta`. */
  applySnapshot(meta: SnapshotMeta): Promise<void>;
  /** Apply committed entries, in order. */
  apply(entries: Entry[]): void;
  readStates(rs: ReadState[]): void;
  softState(ss: SoftState): void;
  /** After each `advance`, with the core accepting input again (e.g. take a snapshot and call `raft.compact`). Awaited. */
  afterAdvance?(): Promise<void>;
}

export interface RaftNodeOptions {
  raft: Raft;
  io: RaftNodeIO;
  tickMs: number;
  log: Logger;
}

/**
 * The one loop that drives the pure Raft core (types.ts `Ready` contract):
 * inputs (messages, ticks, proposals, read requests) are queued and fed to the
 * core only between Readys; each Ready is persisted (awaited), then its messages
 * are sent, its committed entries applied, its read states released, then
 * `advance`. Everything that arrives while a Ready is being persisted waits for
 * the next iteration, so one fsync covers every proposal and message that
 * arrived meanwhile (batching per Ready and per fsync).
 */
export class RaftNode {
  readonly raft: Raft;
  private readonly io: RaftNodeIO;
  private readonly log: Logger;
  private inbox: Message[] = [];
  private pendingTicks = 0;
  private proposals: { datas: Uint8Array[]; done: (firstIndex: number) => void }[] = [];
  private reads: number[] = [];
  private actions: (() => void)[] = [];
  private running = false;
  private scheduled = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private failed: Error | undefined;
  onFatal: (e: Error) => void = () => {};

  constructor(opts: RaftNodeOptions) {
    this.raft = opts.raft;
    this.io = opts.io;
    this.log = opts.log;
    this.timer = setInterval(() => {
      this.pendingTicks++;
      this.kick();
    }, opts.tickMs);
    this.timer.unref?.();
    this.kick();
  }

  step(m: Message): void {
    if (this.stopped) return;
    this.inbox.push(m);
    this.kick();
  }

  /**
   * Resolves with the log index of datas[0] once appended to this leader's log
   * (the rest follow consecutively), or 0 if this node is not the leader.
   */
  propose(datas: Uint8Array[]): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    return new Promise((done) => {
      this.proposals.push({ datas, done });
      this.kick();
    });
  }

  /** Returns false if not leader; otherwise a ReadState with this ctx appears later. */
  readIndex(ctx: number): boolean {
    if (this.stopped || this.raft.state !== 'Leader') return false;
    this.reads.push(ctx);
    this.kick();
    return true;
  }

  /**
   * Run `fn` against the core inside the loop, between Readys (the only place
   * input may be given), e.g. a membership change or a leader transfer.
   */
  do<T>(fn: (raft: Raft) => T): Promise<T> {
    if (this.stopped) return Promise.reject(new Error('raft node stopped'));
    return new Promise<T>((resolve, reject) => {
      this.actions.push(() => {
        try {
          resolve(fn(this.raft));
        } catch (e) {
          reject(e as Error);
        }
      });
      this.kick();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const p of this.proposals) p.done(0);
    this.proposals = [];
  }

  private kick(): void {
    if (this.scheduled || this.running || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped || this.failed) return;
    this.running = true;
    try {
      for (;;) {
        if (this.stopped) return;
        const inbox = this.inbox;
        this.inbox = [];
        for (const m of inbox) this.raft.step(m);
        for (; this.pendingTicks > 0; this.pendingTicks--) this.raft.tick();
        if (this.proposals.length > 0) {
          const ps = this.proposals;
          this.proposals = [];
          const all: Uint8Array[] = [];
          for (const p of ps) all.push(...p.datas);
          const first = this.raft.propose(all);
          let next = first;
          for (const p of ps) {
            p.done(first > 0 ? next : 0);
            next += p.datas.length;
          }
        }
        if (this.reads.length > 0) {
          const rs = this.reads;
          this.reads = [];
          for (const ctx of rs) this.raft.readIndex(ctx);
        }
        if (this.actions.length > 0) {
          const as = this.actions;
          this.actions = [];
          for (const a of as) a();
        }
        if (!this.raft.hasReady()) break;
        const rd = this.raft.ready();
        if (rd.softState) this.io.softState(rd.softState);
        // A leader's appends and heartbeats go out while it persists (types.ts, diss. §10.2.1);
        // appends without entries (they only carry the new commit index) go after this
        // Ready's entries are applied, so the clients waiting on them are answered first.
        let late = rd.messages;
        let early: Message[] = [];
        let afterApply: Message[] = [];
        if (this.raft.state === 'Leader' && late.length > 0) {
          early = late.filter((m) => (m.type === 'App' && m.entries.length > 0) || m.type === 'Heartbeat');
          afterApply = late.filter((m) => m.type === 'App' && m.entries.length === 0);
          late = late.filter((m) => m.type !== 'App' && m.type !== 'Heartbeat');
        }
        // 0. A leader's appends leave first: the followers' round trip (network + their
        // fsync) is the longer leg of a write, and starting the local write costs
        // 0.1-0.2 ms of synchronous work (LevelDB batch preparation) that would delay it.
        if (early.length > 0) this.io.send(early);
        // 1. durable before anything else leaves or is applied (a snapshot from the leader too).
        await this.io.persist(rd.hardState, rd.entries, rd.snapshot?.meta);
        if (this.stopped) return;
        // 2. send.
        if (late.length > 0) this.io.send(late);
        // 3. apply: the snapshot first, then the entries after it.
        if (rd.snapshot) await this.io.applySnapshot(rd.snapshot.meta);
        if (this.stopped) return;
        if (rd.committedEntries.length > 0) this.io.apply(rd.committedEntries);
        // 4. reads.
        if (rd.readStates.length > 0) this.io.readStates(rd.readStates);
        if (afterApply.length > 0) this.io.send(afterApply);
        this.raft.advance(rd);
        if (this.io.afterAdvance) await this.io.afterAdvance();
      }
    } catch (e) {
      // A failed fsync or an internal invariant: continuing could lose data. Stop.
      this.failed = e as Error;
      this.stopped = true;
      if (this.timer) clearInterval(this.timer);
      this.log.fatal({ err: e }, 'raft loop failed; stopping this member');
      this.onFatal(e as Error);
    } finally {
      this.running = false;
    }
    if (this.inbox.length > 0 || this.pendingTicks > 0 || this.proposals.length > 0 || this.reads.length > 0 || this.actions.length > 0) this.kick();
  }

  get leader(): NodeId {
    return this.raft.lead;
  }
}
