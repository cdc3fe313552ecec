import type { Entry, HardState, NodeId, Snapshot } from './types';

/** How a Raft node is built (raft.ts) and what its protocol core reads (roles.ts). */
export interface RaftConfig {
  id: NodeId;
  /**
   * The voting members when no snapshot says otherwise (bootstrap configuration).
   * A node not in its own configuration never campaigns (a member joining an
   * existing cluster starts with `[]` and learns the configuration from the
   * leader's log or snapshot). Changed only by ConfChange entries (§4.1).
   */
  peers: NodeId[];
  /** Ticks without hearing from a leader before campaigning; randomized in [electionTick, 2*electionTick) (§5.2). */
  electionTick: number;
  /** Ticks between leader heartbeats; must be < electionTick. */
  heartbeatTick: number;
  /** Randomness in [0, 1). Inject a seeded generator for deterministic simulation. */
  rng: () => number;
  /** Pre-vote (dissertation §9.6): a partitioned node cannot disrupt the cluster by bumping terms on rejoin. */
  preVote?: boolean;
  /** Check-quorum (dissertation §6.2): a leader that has not heard from a quorum within an election timeout steps down; voters in a leader lease ignore vote requests. */
  checkQuorum?: boolean;
  /** Entries per append message (batching). */
  maxEntriesPerMsg?: number;
  /** Bytes of entry data per append message beyond its first entry (etcd's MaxSizePerMsg; default 1 MiB). */
  maxBytesPerMsg?: number;
  /** Unacknowledged appends per follower in Replicate state (pipelining). */
  maxInflightMsgs?: number;
  /** What stable storage holds at start (restart): the latest snapshot (data may be empty), hard state and entries after it. */
  snapshot?: Snapshot;
  hardState?: HardState;
  entries?: Entry[];
}
