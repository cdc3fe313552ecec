/**
 * bench:scheduler-plugins — what one scheduling decision costs in-process (no apiserver):
 * schedulePod over 1,000 nodes (10 zones) holding 5,000 pods, with the default profile, for
 * a plain pod, a pod with required anti-affinity (every placed pod has one too, so the
 * symmetric check has 5,000 terms to test), a pod with topology spread (zone DoNotSchedule
 * plus hostname ScheduleAnyway) and a ReplicaSet pod under the system-default spreading.
 * The baseline row runs the default profile without InterPodAffinity and PodTopologySpread.
 * The assumed row is the scheduler's whole decision for a plain pod as its loop makes it: the
 * node cache's snapshot (with ~100 pods assumed, bound but not yet seen bound), schedulePod
 * stopping at percentageOfNodesToScore, assuming the pod, and the informer confirming the oldest
 * assumption.
 *
 * Output: one JSON line per workload (ms per schedulePod: p50, p99, mean, and CPU ms per call) and a table.
 */
import type { Pod, PodAffinityTerm } from 'kubernetes-types/core/v1';
import { nodeInfo, withRequestsMemo, newRequestsMemo, type NodeInfo } from '../scheduler/framework';
import { NodeInfoCache } from '../scheduler/node-cache';
import { numFeasibleNodesToFind } from '../scheduler/nodes-to-find';
import { snapshotOf } from '../scheduler/snapshot';
import { schedulePod } from '../scheduler/schedule';
import { defaultProfile, type Profile } from '../scheduler/plugins/registry';
import { emit, envInt, note, round, summarize, table } from './lib/report';

const NODES = envInt('COXSWAIN_BENCH_NODES', 1000);
const PODS = envInt('COXSWAIN_BENCH_PODS', 5000);
const ROUNDS = envInt('COXSWAIN_BENCH_ROUNDS', 200);
const GROUPS = 500;
const IN_FLIGHT = envInt('COXSWAIN_BENCH_ASSUMED', 100);
const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

const antiTerm = (app: string): PodAffinityTerm => ({ labelSelector: { matchLabels: { app } }, topologyKey: HOST });

function mkPod(name: string, app: string, o: { node?: string; anti?: boolean; spread?: boolean; owner?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app }, ownerReferences: o.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: o.owner, controller: true }] : undefined },
    spec: {
      nodeName: o.node,
      containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '10m', memory: '10Mi' } } }],
      affinity: o.anti ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [antiTerm(app)] } } : undefined,
      topologySpreadConstraints: o.spread
        ? [
            { maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app } } },
            { maxSkew: 1, topologyKey: HOST, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app } } },
          ]
        : undefined,
    },
    status: { phase: o.node ? 'Running' : 'Pending' },
  };
}

/** 1,000 nodes; pod i of group i % 500 goes to node i % 1000, so no group shares a node. */
function cluster(existing: { anti?: boolean; owner?: boolean }): NodeInfo[] {
  const byNode: Pod[][] = Array.from({ length: NODES }, () => []);
  for (let i = 0; i < PODS; i++) {
    const g = `g${i % GROUPS}`;
    const node = `node-${i % NODES}`;
    byNode[i % NODES].push(mkPod(`p${i}`, g, { node, anti: existing.anti, owner: existing.owner ? `rs-${g}` : undefined }));
  }
  return byNode.map((pods, i) =>
    nodeInfo(
      {
        metadata: { name: `node-${i}`, labels: { [HOST]: `node-${i}`, [ZONE]: `zone-${i % 10}`, 'kubernetes.io/os': 'linux' } },
        status: { allocatable: { cpu: '32', memory: '64Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
      },
      pods,
    ),
  );
}

function measure(name: string, what: string, profile: Profile, infos: NodeInfo[], incoming: () => Pod): Record<string, unknown> {
  const snap = snapshotOf(infos);
  for (let i = 0; i < 10; i++) schedulePod(incoming(), snap, profile, i);
  const samples: number[] = [];
  let placed = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++) {
    const pod = incoming();
    const t0 = process.hrtime.bigint();
    const r = schedulePod(pod, snap, profile, i);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.ok) placed++;
  }
  const cpu = process.cpuUsage(cpu0);
  const s = summarize(samples);
  // CPU time is the steadier measure on a shared machine (wall time includes waiting for a core).
  const cpuMsPerPod = cpuMsPerRound(cpu);
  const row = { bench: 'scheduler-plugins', scenario: name, system: 'coxswain', what, nodes: NODES, pods: PODS, rounds: ROUNDS, placed, cpuMsPerPod, ...s };
  emit(row);
  return row;
}

/**
 * One scheduler decision per round as Scheduler.scheduleOne makes it, on a node cache holding
 * `infos`' nodes and pods with IN_FLIGHT pods assumed: expire, snapshot, schedulePod (from where
 * the last search stopped, percentageOfNodesToScore adaptive), assume; then the informer shows
 * the oldest assumed pod bound (keeping IN_FLIGHT in flight), as it would before the next attempt.
 */
function measureAssumed(name: string, what: string, profile: Profile, infos: NodeInfo[], incoming: () => Pod): Record<string, unknown> {
  const cache = new NodeInfoCache();
  for (const i of infos) cache.setNode(i.node);
  for (const i of infos) for (const p of i.pods) cache.setPod(p);
  const memo = newRequestsMemo();
  const inFlight: Pod[] = [];
  let start = 0;
  let now = 0;
  const decide = (i: number): boolean => {
    const pod = incoming();
    now += 1;
    const r = withRequestsMemo(() => {
      cache.expire(now);
      const snap = cache.snapshot();
      const toFind = numFeasibleNodesToFind(snap.nodes.length);
      const r = schedulePod(pod, snap, profile, i, { feasibleToFind: toFind, start });
      if (r.ok) start = (start + r.processed) % snap.nodes.length;
      return r;
    }, memo);
    if (!r.ok) return false;
    cache.assume(pod, r.nodeName, now);
    inFlight.push({ ...pod, spec: { ...pod.spec!, nodeName: r.nodeName }, status: { phase: 'Running' } });
    if (inFlight.length > IN_FLIGHT) cache.setPod(inFlight.shift()!);
    return true;
  };
  for (let i = 0; i < IN_FLIGHT + 10; i++) decide(i);
  const samples: number[] = [];
  let placed = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = process.hrtime.bigint();
    if (decide(i)) placed++;
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cpu = process.cpuUsage(cpu0);
  const s = summarize(samples);
  const cpuMsPerPod = cpuMsPerRound(cpu);
  const row = { bench: 'scheduler-plugins', scenario: name, system: 'coxswain', what, nodes: NODES, pods: PODS, assumed: IN_FLIGHT, rounds: ROUNDS, placed, cpuMsPerPod, ...s };
  emit(row);
  return row;
}

const cpuMsPerRound = (cpu: NodeJS.CpuUsage) => round((cpu.user + cpu.system) / 1000 / ROUNDS);

function main(): void {
  const all = defaultProfile();
  const mine = new Set(['InterPodAffinity', 'PodTopologySpread']);
  const baseline: Profile = { filters: all.filters.filter((f) => !mine.has(f.name)), scores: all.scores.filter((s) => !mine.has(s.name)) };
  note(`building ${NODES} nodes with ${PODS} pods`);
  const plain = cluster({});
  const anti = cluster({ anti: true });
  const owned = cluster({ owner: true });
  let n = 0;
  const rows = [
    measure('baseline', 'plain pod, profile without InterPodAffinity/PodTopologySpread', baseline, plain, () => mkPod(`b${n++}`, 'new')),
    measure('plain', 'plain pod, default profile', all, plain, () => mkPod(`q${n++}`, 'new')),
    measure('anti-affinity', 'required anti-affinity to g0 (on 10 nodes); all 5,000 placed pods have anti-affinity too', all, anti, () => mkPod(`a${n++}`, 'g0', { anti: true })),
    measure('spread', 'zone DoNotSchedule + hostname ScheduleAnyway over g0', all, plain, () => mkPod(`s${n++}`, 'g0', { spread: true })),
    measure('default-spread', 'ReplicaSet pod, system-default constraints', all, owned, () => mkPod(`d${n++}`, 'g0', { owner: 'rs-g0' })),
    measureAssumed('assumed', `plain pod, default profile, the scheduler's node cache with ${IN_FLIGHT} pods assumed`, all, plain, () => mkPod(`c${n++}`, 'new')),
  ];
  table(`ms per schedulePod, ${NODES} nodes, ${PODS} pods (${ROUNDS} rounds)`, [
    ['workload', 'p50 ms', 'p99 ms', 'mean ms', 'cpu ms', 'placed'],
    ...rows.map((r) => [String(r.scenario), Number(r.p50Ms), Number(r.p99Ms), Number(r.meanMs), Number(r.cpuMsPerPod), Number(r.placed)]),
  ]);
}

main();
