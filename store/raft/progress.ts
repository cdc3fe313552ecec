/**
 * The leader's view of one follower's log (Figure 2 nextIndex/matchIndex), plus
 * flow control in the style of etcd-io/raft's tracker:
 *  - Probe: we do not know where the follower's log matches; send one append and
 *    wait for its answer (or the next heartbeat response) before sending another.
 *  - Replicate: the follower is known to match; stream appends optimistically
 *    (pipelining), at most `maxInflight` unacknowledged messages.
 *  - Snapshot: the entries it needs are compacted; a snapshot (§7) is on its way.
 *    Nothing else is sent until it is acknowledged (AppResp >= pendingSnapshot) or
 *    reported failed (`Raft.reportSnapshot`).
 */
export type ProgressState = 'Probe' | 'Replicate' | 'Snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'Probe';
  /** Probe only: an append is outstanding; wait for a response or heartbeat. */
  probeSent = false;
  /** Last index of each unacknowledged append, ascending. */
  inflights: number[] = [];
  /** Heard from since the last check-quorum round. */
  recentActive = true;
  /** Highest read-index sequence this follower acknowledged in the current term. */
  readAck = 0;
  /** Snapshot only: index of the snapshot sent. */
  pendingSnapshot = 0;

  constructor(next: number, private readonly maxInflight: number) {
    this.next = next;
  }

  becomeProbe(): void {
    // After a rejection in Replicate (or a failed snapshot) restart probing right
    // after the known match.
    if (this.state !== 'Probe') this.next = this.match + 1;
    this.pendingSnapshot = 0;
    this.state = 'Probe';
    this.probeSent = false;
    this.inflights = [];
  }

  becomeSnapshot(index: number): void {
    this.state = 'Snapshot';
    this.pendingSnapshot = index;
    this.probeSent = false;
    this.inflights = [];
  }

  becomeReplicate(): void {
    this.pendingSnapshot = 0;
    this.state = 'Replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflights = [];
  }

  isPaused(): boolean {
    if (this.state === 'Snapshot') return true;
    return this.state === 'Probe' ? this.probeSent : this.inflights.length >= this.maxInflight;
  }

  /**
   * Replicate with a full window: forget the oldest in-flight append, so one more may go
   * out (etcd-io/raft does this on a heartbeat answer). Appends sent to a follower that
   * then crashed are never acknowledged; without this the window stays full and the
   * leader never sends it anything again, so it never catches up.
   */
  freeFirstOneIfFull(): void {
    if (this.state === 'Replicate' && this.inflights.length >= this.maxInflight) this.inflights.shift();
  }

  /** An append up to `lastIndex` was sent. */
  sentEntries(lastIndex: number, count: number): void {
    if (this.state === 'Replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.push(lastIndex);
      }
    } else {
      this.probeSent = true;
    }
  }

  /** Successful AppResp for `index`. Returns false if it is stale (says nothing new). */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < index + 1) this.next = index + 1;
    let k = 0;
    while (k < this.inflights.length && this.inflights[k] <= index) k++;
    if (k > 0) this.inflights.splice(0, k);
    return updated;
  }

  /**
   * Rejected AppResp for prevIndex `rejected` with the follower's hint. Returns
   * false if the rejection is stale (answers an append we already superseded).
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === 'Snapshot') return false;
    if (this.state === 'Replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }
}
