import type { Entry } from './types';

/**
 * The replicated log as the core sees it: every entry after `firstIndex - 1`
 * (the compaction point, §7) kept in memory, split into a stable prefix (on disk,
 * up to `stabled`) and an unstable suffix the driver has not yet persisted.
 *
 * Invariants: offset <= applied <= committed <= lastIndex(); offset <= stabled <=
 * lastIndex(); entries are contiguous and ents[i].index === offset + 1 + i.
 * `compact` drops a prefix the state machine has already applied (and a snapshot
 * covers); `restore` replaces the whole log by a snapshot point.
 */
export class RaftLog {
  private ents: Entry[];
  /** Index/term of the entry just before ents[0] (the snapshot point). */
  private offset: number;
  private offsetTerm: number;
  committed: number;
  applied: number;
  /** Highest index known to be on stable storage. */
  stabled: number;

  /**
   * `offset/offsetTerm`: the snapshot point the stored log continues from (0/0
   * without a snapshot). Stored entries at or below it are ignored.
   */
  constructor(stableEntries: Entry[], committed: number, offset = 0, offsetTerm = 0) {
    this.offset = offset;
    this.offsetTerm = offsetTerm;
    this.ents = stableEntries.filter((e) => e.index > offset);
    for (let i = 0; i < this.ents.length; i++) {
      if (this.ents[i].index !== offset + 1 + i) throw new Error(`raft log: entries not contiguous at ${this.ents[i].index}`);
    }
    this.stabled = this.lastIndex();
    if (committed > this.lastIndex()) throw new Error(`raft log: commit ${committed} beyond last index ${this.lastIndex()}`);
    this.committed = Math.max(committed, offset);
    this.applied = offset;
  }

  /** Drop entries up to and including `index` (already applied; a snapshot covers them). */
  compact(index: number): void {
    if (index <= this.offset) return;
    if (index > this.applied) throw new Error(`raft log: compact ${index} beyond applied ${this.applied}`);
    const t = this.term(index)!;
    this.ents.splice(0, index - this.offset);
    this.offset = index;
    this.offsetTerm = t;
  }

  /**
   * Replace the log by a snapshot point (InstallSnapshot, §7): everything up to
   * `index` is committed and about to be applied from the snapshot. `applied` is
   * moved by the caller once the state machine has it.
   */
  restore(index: number, term: number): void {
    this.ents = [];
    this.offset = index;
    this.offsetTerm = term;
    this.committed = index;
    this.stabled = index;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.ents.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** Term of entry `i`, or undefined if `i` is compacted away or beyond the end. */
  term(i: number): number | undefined {
    if (i === this.offset) return this.offsetTerm;
    if (i < this.offset || i > this.lastIndex()) return undefined;
    return this.ents[i - this.offset - 1].term;
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term;
  }

  /** Entries in [lo, hi) (hi exclusive), at most `max` of them and (beyond the first) at most `maxBytes` of data. */
  slice(lo: number, hi: number, max = Infinity, maxBytes = Infinity): Entry[] {
    if (lo < this.firstIndex()) throw new Error(`raft log: slice ${lo} below first index ${this.firstIndex()}`);
    hi = Math.min(hi, this.lastIndex() + 1, lo + max);
    if (hi <= lo) return [];
    const out = this.ents.slice(lo - this.offset - 1, hi - this.offset - 1);
    if (maxBytes !== Infinity) {
      let bytes = 0;
      for (let i = 0; i < out.length; i++) {
        bytes += out[i].data.byteLength;
        if (i > 0 && bytes > maxBytes) return out.slice(0, i);
      }
    }
    return out;
  }

  /** §5.4.1 election restriction: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Leader-side append of new entries at the end. */
  appendNew(ents: Entry[]): void {
    for (const e of ents) {
      if (e.index !== this.lastIndex() + 1) throw new Error(`raft log: append ${e.index} after ${this.lastIndex()}`);
      this.ents.push(e);
    }
  }

  /**
   * Follower-side AppendEntries (§5.3): if our entry at prevIndex has prevTerm,
   * delete conflicting entries, append the new ones, advance commit to
   * min(leaderCommit, index of last new entry). Returns the last new index, or
   * undefined if the consistency check fails.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + ents.length;
    let k = 0;
    for (; k < ents.length; k++) {
      const t = this.term(ents[k].index);
      if (t !== ents[k].term) break; // first conflict or first new entry
    }
    if (k < ents.length) {
      const from = ents[k].index;
      if (from <= this.committed) {
        throw new Error(`raft log: conflict at ${from} would truncate committed entries (commit ${this.committed})`);
      }
      this.truncateFrom(from);
      this.appendNew(ents.slice(k));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  private truncateFrom(index: number): void {
    if (index <= this.lastIndex()) {
      this.ents.length = index - this.offset - 1;
      if (this.stabled >= index) this.stabled = index - 1;
    }
  }

  /**
   * Follower's hint after a rejected append at (index, term): the largest index
   * <= index whose term is <= term. The leader probes there next, skipping a whole
   * conflicting term per round trip instead of one entry.
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    for (; i > this.offset; i--) {
      const t = this.term(i)!;
      if (t <= term) return i;
    }
    return this.offset;
  }

  commitTo(c: number): void {
    if (c > this.committed) {
      if (c > this.lastIndex()) throw new Error(`raft log: commit ${c} beyond last index ${this.lastIndex()}`);
      this.committed = c;
    }
  }

  unstableEntries(): Entry[] {
    return this.stabled >= this.lastIndex() ? [] : this.ents.slice(this.stabled - this.offset);
  }

  nextCommittedEntries(): Entry[] {
    if (this.applied < this.offset) return []; // a restored snapshot is applied first
    return this.slice(this.applied + 1, this.committed + 1);
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > this.applied && this.applied >= this.offset;
  }

  /** The driver persisted entries up to (index, term). Ignored if the log changed under it. */
  stableTo(index: number, term: number): void {
    if (this.term(index) === term && index > this.stabled) this.stabled = index;
  }

  appliedTo(i: number): void {
    if (i > this.committed || i < this.applied) throw new Error(`raft log: applied ${i} out of range [${this.applied}, ${this.committed}]`);
    this.applied = i;
  }
}
