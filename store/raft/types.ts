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
 * leader appends, §8). 'ConfChange' is reserved for membership changes (§6),
 * which a later stage adds; the core already refuses to treat it as Normal.
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
  | 'HeartbeatResp';

/**
 * One Raft message. Fields unused by a type are 0/''/[]/false.
 * - App: index/logTerm = prevLogIndex/prevLogTerm, entries, commit.
 * - AppResp: index = last index matched (or the rejected prevLogIndex), reject, rejectHint = follower's hint for the next probe.
 * - Vote/PreVote: index/logTerm = candidate's last log index/term; term = the term campaigned for.
 * - Heartbeat: commit = min(follower's match, leader commit); context = latest read-index sequence.
 * - HeartbeatResp: context echoed.
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
 * 1. `hardState` and `entries`: write both to stable storage in ONE synced write
 *    (truncating any stored entries at index >= entries[0].index first). Until that
 *    write returns, nothing below may happen: no message may leave, no entry may be
 *    applied, no client may be acknowledged. This is what makes a granted vote or an
 *    acknowledged append durable (§5.1 / Figure 2).
 * 2. `messages`: send (in any order, over any lossy transport; Raft tolerates loss,
 *    duplication and reordering). Sending may be asynchronous.
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
  hardState?: HardState;
  entries: Entry[];
  messages: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
}

export function emptyMessage(type: MessageType, from: NodeId, to: NodeId, term: number): Message {
  return { type, from, to, term, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, context: 0 };
}

export function isHardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
