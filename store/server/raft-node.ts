import { Raft } from '../raft/raft';
import type { Entry, HardState, Message, NodeId, ReadState, SoftState } from '../raft/types';
import type { Logger } from '../../lib/log';

/** Where Ready output goes. All callbacks are synchronous; `persist` is awaited. */
export interface RaftNodeIO {
  /** Durably write hard state + entries (one synced write). */
  persist(hs: HardState | undefined, entries: Entry[]): Promise<void>;
  /** Hand messages to the transport (must not block). */
  send(msgs: Message[]): void;
  /** Apply committed entries, in order. */
  apply(entries: Entry[]): void;
  readStates(rs: ReadState[]): void;
  softState(ss: SoftState): void;
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
        if (!this.raft.hasReady()) break;
        const rd = this.raft.ready();
        if (rd.softState) this.io.softState(rd.softState);
        // 1. durable before anything leaves or is applied.
        await this.io.persist(rd.hardState, rd.entries);
        if (this.stopped) return;
        // 2. send.
        if (rd.messages.length > 0) this.io.send(rd.messages);
        // 3. apply.
        if (rd.committedEntries.length > 0) this.io.apply(rd.committedEntries);
        // 4. reads.
        if (rd.readStates.length > 0) this.io.readStates(rd.readStates);
        this.raft.advance(rd);
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
    if (this.inbox.length > 0 || this.pendingTicks > 0 || this.proposals.length > 0 || this.reads.length > 0) this.kick();
  }

  get leader(): NodeId {
    return this.raft.lead;
  }
}
