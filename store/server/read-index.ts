import { EtcdError } from '../errors';
import type { NodeId, ReadState } from '../raft/types';

export interface ReadIndexDeps {
  self: NodeId;
  /** The current leader, waiting for one to appear (rejects with NoLeader). */
  awaitLeader(): Promise<NodeId>;
  /** Ask leader `lead` for a read index (follower side, over the peer transport). */
  forward(lead: NodeId): Promise<number>;
  /** Hand `ctx` to the local Raft core's readIndex; false if this member does not lead. */
  request(ctx: number): boolean;
  timeoutMs: number;
}

/**
 * Read indexes for linearizable reads (dissertation §6.4), coalesced per event-loop
 * turn: every caller in one turn shares one confirmation round. On the leader the
 * index comes back as a ReadState from the core (`onReadStates`); a follower asks
 * the leader. Pending requests fail with LeaderChanged when leadership is lost.
 */
export class ReadIndexRequests {
  private ctx = 0;
  private readonly waiters = new Map<number, { resolve: (i: number) => void; reject: (e: Error) => void }>();
  private batch: Promise<number> | undefined;

  constructor(private readonly deps: ReadIndexDeps) {}

  /** A confirmed read index; concurrent callers share one confirmation round. */
  readIndex(): Promise<number> {
    if (!this.batch) {
      this.batch = new Promise<number>((resolve, reject) => {
        setImmediate(() => {
          this.batch = undefined;
          this.issue().then(resolve, reject);
        });
      });
    }
    return this.batch;
  }

  private async issue(): Promise<number> {
    const lead = await this.deps.awaitLeader();
    if (lead !== this.deps.self) return this.deps.forward(lead);
    const ctx = ++this.ctx;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(ctx);
        reject(new EtcdError('Timeout'));
      }, this.deps.timeoutMs);
      this.waiters.set(ctx, {
        resolve: (i) => {
          clearTimeout(timer);
          resolve(i);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      if (!this.deps.request(ctx)) {
        this.waiters.delete(ctx);
        clearTimeout(timer);
        reject(new EtcdError('LeaderChanged'));
      }
    });
  }

  /** Ready.readStates: resolve the requests they confirm. */
  onReadStates(rs: ReadState[]): void {
    for (const r of rs) {
      const w = this.waiters.get(r.ctx);
      if (w) {
        this.waiters.delete(r.ctx);
        w.resolve(r.index);
      }
    }
  }

  /** Fail every pending local request (leadership lost, or stopping). */
  rejectAll(e: Error): void {
    for (const [ctx, w] of this.waiters) {
      this.waiters.delete(ctx);
      w.reject(e);
    }
  }
}
