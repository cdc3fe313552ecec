import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster } from './testing';

// Randomized, deterministic simulation: many seeds of a lossy, reordering,
// partitioning network with crashes and restarts. SimCluster asserts Election
// Safety, Log Matching, Leader Completeness, State Machine Safety, commit
// monotonicity and apply-after-persist at every step; a failing seed replays
// exactly (COXSWAIN_RAFT_SEED=<n> runs just that one).
//
// COXSWAIN_RAFT_SEEDS=<n> runs more seeds (default 60).

const SEEDS = Number(process.env.COXSWAIN_RAFT_SEEDS ?? 60);
const ONLY = process.env.COXSWAIN_RAFT_SEED;

function seeds(): number[] {
  if (ONLY) return [Number(ONLY)];
  return Array.from({ length: SEEDS }, (_, i) => i + 1);
}

interface Features {
  preVote: boolean;
  checkQuorum: boolean;
  /** Snapshot + compact every few entries (§7), so lagging and restarted nodes need InstallSnapshot. */
  snapshots?: boolean;
  /** Single-server membership changes (diss. §4.1) and leader transfers (diss. §3.10) during the chaos. */
  membership?: boolean;
}

function chaos(seed: number, nodes: number, features: Features): SimCluster {
  const { snapshots, membership, ...raftFeatures } = features;
  const c = new SimCluster({
    seed,
    nodes,
    dropRate: 0.1,
    dupRate: 0.05,
    maxDelay: 3,
    ...raftFeatures,
    ...(snapshots ? { snapshotCount: 5, catchUpEntries: 2 } : {}),
  });
  const rng = c.rng;
  for (let round = 0; round < 40; round++) {
    // A burst of proposals at whoever is leader.
    const lead = c.leader();
    if (lead) for (let i = 0; i < 1 + Math.floor(rng() * 4); i++) c.propose(lead);
    if (membership && lead) {
      const voters = c.raft(lead).peers;
      const q = rng();
      if (q < 0.12 && voters.length < 5) {
        // etcd's workflow: start the empty server, then add it (it learns the configuration from the leader).
        const id = c.addServer();
        c.proposeConfChange(lead, { type: 'AddNode', nodeId: id, context: '' });
      } else if (q < 0.22 && voters.length > 3) {
        const victim = voters[Math.floor(rng() * voters.length)];
        c.proposeConfChange(lead, { type: 'RemoveNode', nodeId: victim, context: '' });
      } else if (q < 0.32) {
        const others = voters.filter((v) => v !== lead);
        c.transferLeader(lead, others[Math.floor(rng() * others.length)]);
      }
    }
    const p = rng();
    if (p < 0.15) {
      const victim = c.ids[Math.floor(rng() * c.ids.length)];
      c.crash(victim);
    } else if (p < 0.3) {
      for (const id of c.ids) c.restart(id);
    } else if (p < 0.42) {
      const k = 1 + Math.floor(rng() * Math.floor(nodes / 2));
      const shuffled = [...c.ids].sort(() => rng() - 0.5);
      c.heal();
      c.partition(shuffled.slice(0, k));
    } else if (p < 0.55) {
      c.heal();
    }
    c.run(5 + Math.floor(rng() * 25));
    c.checkLogMatching();
  }
  return c;
}

const variants: (Features & { nodes: number })[] = [
  { nodes: 3, preVote: true, checkQuorum: true },
  { nodes: 5, preVote: true, checkQuorum: true },
  { nodes: 3, preVote: false, checkQuorum: false },
  { nodes: 5, preVote: true, checkQuorum: false },
  { nodes: 3, preVote: true, checkQuorum: true, snapshots: true },
  { nodes: 5, preVote: false, checkQuorum: false, snapshots: true },
  { nodes: 3, preVote: true, checkQuorum: true, membership: true },
  { nodes: 3, preVote: true, checkQuorum: true, snapshots: true, membership: true },
];

for (const { nodes, ...features } of variants) {
  test(`simulation: ${nodes} nodes ${JSON.stringify(features)}, safety under drops/reorders/partitions/crashes (${ONLY ? 1 : SEEDS} seeds)`, () => {
    for (const seed of seeds()) {
      const c = chaos(seed * 1000 + nodes, nodes, features);
      // Liveness after healing: one leader, and a new command commits everywhere.
      c.heal();
      for (const id of c.ids) c.restart(id);
      c.setNetwork({ dropRate: 0, dupRate: 0, maxDelay: 0 });
      // Wait until every voter (of the leader's configuration) follows the same leader in the same term.
      const voters = (): string[] => {
        const l = c.leader();
        return l === undefined ? c.ids : c.raft(l).peers;
      };
      const agreed = (): boolean => {
        const l = c.leader();
        return l !== undefined && c.raft(l).transferee === '' && voters().every((id) => c.raft(id).lead === l && c.raft(id).term === c.raft(l).term);
      };
      assert.ok(c.runUntil(agreed, 1000), `seed ${seed}: no leader after heal`);
      const lead = c.leader()!;
      assert.ok(c.propose(lead));
      const target = c.raft(lead).log.lastIndex();
      assert.ok(
        c.runUntil(() => voters().every((id) => c.raft(id).log.committed >= target), 500),
        `seed ${seed}: cluster did not converge`,
      );
      c.checkLogMatching();
      // A committed removal of the leader itself makes it step down (§4.2.2); wait for the successor.
      assert.ok(c.runUntil(agreed, 1000), `seed ${seed}: no leader after convergence`);
      const leaders = voters().filter((id) => c.raft(id).state === 'Leader');
      assert.equal(leaders.length, 1, `seed ${seed}: ${leaders.join(',')}`);
    }
  });
}
