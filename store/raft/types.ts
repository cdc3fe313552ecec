/**
 * Raft vocabulary shared by the core, the driver and the transport. Names follow
 * the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus
 * Algorithm", extended version) and etcd-io/raft's message names.
 *
 * Indexes and terms are plain JS numbers (exact up to 2^53, far beyond any log).
 * Node ids are opaque strings (the store uses the member id in hex) so that 64-bit
 * member ids never lose precision.
 */

export type NodeId = string;

/** "No node": no leader known, or no vote cast in this term. */
export const NONE: NodeId = '';

/**
 * Entry types. 'Normal' carries an opaque command (empty data = the no-op a new
 * leader appends, §8). 'ConfChange' carries an encoded `ConfChange`
 * (confchange.ts): a single-server membership change (dissertation §4.1) that the
 * core itself applies to its configuration when the entry is applied (`advance`).
 */
export type EntryType = 'Normal' | 'ConfChange';

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must be on stable storage before a message is sent or a vote is granted (§5.1, Figure 2 "Persistent state"). */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export type MessageType =
  | 'App' // AppendEntries RPC (§5.3); also carries the commit index
  | 'AppResp'
  | 'Vote' // RequestVote RPC (§5.2)
  | 'VoteResp'
  | 'PreVote' // Pre-vote (dissertation §9.6): would you vote for me at term+1?
  | 'PreVoteResp'
  | 'Heartbeat' // empty AppendEntries without log check; carries commit and read-index context
  | 'HeartbeatResp'
  | 'Snap' // InstallSnapshot RPC (§7); answered with an AppResp
  | 'TimeoutNow'; // leader transfer (dissertation §3.10): campaign now, ignoring leader leases

/**
 * The state machine's state at `index` (inclusive) and the configuration in force
 * there. `data` is opaque to the core; the production driver leaves it empty and
 * its transport streams the snapshot file instead (store/server/peer.ts).
 */
export interface SnapshotMeta {
  index: number;
  term: number;
  /** Voting members at `index` (the configuration applied up to it). */
  voters: NodeId[];
}

export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

/**
 * One Raft message. Fields unused by a type are 0/''/[]/false.
 * - App: index/logTerm = prevLogIndex/prevLogTerm, entries, commit.
 * - AppResp: index = last index matched (or the rejected prevLogIndex), reject, rejectHint = follower's hint for the next probe.
 * - Vote/PreVote: index/logTerm = candidate's last log index/term; term = the term campaigned for.
 * - Heartbeat: commit = min(follower's match, leader commit); context = latest read-index sequence.
 * - HeartbeatResp: context echoed.
 * - Snap: snapshot (its meta; data may travel out of band). Answered with an AppResp.
 * - Vote: context = 1 when the election was started by TimeoutNow (leader
 *   transfer), which lets voters disregard their leader lease (diss. §3.10, §4.2.3).
 */
export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  rejectHint: number;
  context: number;
  snapshot?: Snapshot;
}

export type StateType = 'Follower' | 'PreCandidate' | 'Candidate' | 'Leader';

export interface SoftState {
  lead: NodeId;
  state: StateType;
}

/** A confirmed read index (dissertation §6.4): once applied >= index, a read issued with `ctx` may be served linearizably. */
export interface ReadState {
  index: number;
  ctx: number;
}

/**
 * One batch of work for the driver. The driver MUST handle it in this order:
 *
 * 0. `snapshot` (a follower installing the leader's snapshot, §7): make the snapshot
 *    durable and discard every stored log entry (the log restarts after
 *    snapshot.meta.index), before or atomically with step 1. Then, before step 3,
 *    replace the state machine's state with it.
 * 1. `hardState` and `entries`: write both to stable storage in ONE synced write
 *    (truncating any stored entries at index >= entries[0].index first). Until that
 *    write returns, nothing below may happen: no message may leave, no entry may be
 *    applied, no client may be acknowledged. This is what makes a granted vote or an
 *    acknowledged append durable (§5.1 / Figure 2).
 * 2. `messages`: send (in any order, over any lossy transport; Raft tolerates loss,
 *    duplication and reordering). Sending may be asynchronous.
 *    Exception (dissertation §10.2.1): a leader's 'App' and 'Heartbeat' messages
 *    may be sent before step 1. They carry only the leader's current term (made
 *    durable when it campaigned) and entries; the leader counts its own copy
 *    toward commitment only after `advance` reports it stable.
 * 3. `committedEntries`: apply to the state machine in slice order (increasing index,
 *    contiguous, starting at the last applied index + 1). They may include entries from
 *    `entries` of this same Ready; step 1 has made them durable.
 * 4. `readStates`: release each once the applied index >= readState.index.
 * 5. call `advance(ready)`.
 *
 * `softState` is informational (leader changes) and may be observed at any time.
 * No `step`/`tick`/`propose` call may happen between `ready()` and `advance()`.
 */
export interface Ready {
  softState?: SoftState;
  snapshot?: Snapshot;
  hardState?: HardState;
  entries: Entry[];
  messages: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
}

export function emptyMessage(type: MessageType, from: NodeId, to: NodeId, term: number): Message {
  return { type, from, to, term, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, context: 0 };
}

/**
 * Whether persisting this hard state needs an fsync (etcd's MustSync): term and vote
 * must be durable before any message that depends on them leaves (§5.1), new
 * entries before they are acknowledged; a commit index alone need not be, because
 * it can always be re-learned from the leader (a restart may resume with an older
 * commit index, never with an entry it acknowledged missing).
 */
export function mustSync(hs: HardState | undefined, prev: HardState, entryCount: number): boolean {
  return entryCount > 0 || (hs !== undefined && (hs.term !== prev.term || hs.vote !== prev.vote));
}

export function isHardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
