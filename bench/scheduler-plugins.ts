/**
 * bench:scheduler-plugins — what one scheduling decision costs in-process (no apiserver):
 * schedulePod over 1,000 nodes (10 zones) holding 5,000 pods, with the default profile, for
 * a plain pod, a pod with required anti-affinity (every placed pod has one too, so the
 * symmetric check has 5,000 terms to test), a pod with topology spread (zone DoNotSchedule
 * plus hostname ScheduleAnyway) and a ReplicaSet pod under the system-default spreading.
 * The baseline row runs the default profile without InterPodAffinity and PodTopologySpread.
 *
 * Output: one JSON line per workload (ms per schedulePod: p50, p99, mean, and CPU ms per call) and a table.
 */
import type { Pod, PodAffinityTerm } from 'kubernetes-types/core/v1';
import { nodeInfo, type NodeInfo } from '../scheduler/framework';
import { snapshotOf } from '../scheduler/cache';
import { schedulePod } from '../scheduler/schedule';
import { defaultProfile, type Profile } from '../scheduler/plugins/registry';
import { emit, envInt, note, round, summarize, table } from './lib/report';

const NODES = envInt('COXSWAIN_BENCH_NODES', 1000);
const PODS = envInt('COXSWAIN_BENCH_PODS', 5000);
const ROUNDS = envInt('COXSWAIN_BENCH_ROUNDS', 200);
const GROUPS = 500;
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
  const cpuMsPerPod = round((cpu.user + cpu.system) / 1000 / ROUNDS);
  const row = { bench: 'scheduler-plugins', scenario: name, system: 'coxswain', what, nodes: NODES, pods: PODS, rounds: ROUNDS, placed, cpuMsPerPod, ...s };
  emit(row);
  return row;
}

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
  ];
  table(`ms per schedulePod, ${NODES} nodes, ${PODS} pods (${ROUNDS} rounds)`, [
    ['workload', 'p50 ms', 'p99 ms', 'mean ms', 'cpu ms', 'placed'],
    ...rows.map((r) => [String(r.scenario), Number(r.p50Ms), Number(r.p99Ms), Number(r.meanMs), Number(r.cpuMsPerPod), Number(r.placed)]),
  ]);
}

main();
