import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1';
import { ERR_CONSTRAINTS, ERR_MISSING_LABEL, PodTopologySpread, PodTopologySpreadScore } from './podTopologySpread';
import { cluster, filterAll, pod, scoreAll } from './affinityTestutil';
import { schedulePod } from '../schedule';
import { CycleState } from '../framework';
import { mkInfo } from '../testutil';
import { defaultProfile } from './registry';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const OK = 'ok';
const MISSING = ERR_MISSING_LABEL;
const SKEW = ERR_CONSTRAINTS;
const web = { app: 'web' };
// Zone a holds n1 and n2, b holds n3, c holds n4; n5 has no zone. n4 alone lacks disk=ssd.
const NODES = { n1: { [ZONE]: 'a', disk: 'ssd' }, n2: { [ZONE]: 'a', disk: 'ssd' }, n3: { [ZONE]: 'b', disk: 'ssd' }, n4: { [ZONE]: 'c' }, n5: {} };

function spread(o: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint {
  return { maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: web }, ...o };
}
const on = (node: string, n = 1, labels: Record<string, string> = web, extra: Parameters<typeof pod>[1] = {}) =>
  Array.from({ length: n }, (_, i) => pod(`${node}-${i}-${Object.values(labels).join('.')}`, { labels, node, ...extra }));

test('PodTopologySpread filter: table', () => {
  const taints = { n4: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' as const }] };
  const cases: { name: string; pod: Pod; existing: Pod[]; want: Record<string, string> }[] = [
    {
      name: 'zones a=2 b=1 c=0: only c is within maxSkew 1; a node without the key is out',
      pod: pod('p', { labels: web, spread: [spread()] }),
      existing: [...on('n1', 2), ...on('n3')],
      want: { n1: SKEW, n2: SKEW, n3: SKEW, n4: OK, n5: MISSING },
    },
    {
      name: 'a pod not matching its own selector does not count itself',
      pod: pod('p', { labels: { app: 'other' }, spread: [spread()] }),
      existing: [...on('n1', 2), ...on('n3')],
      want: { n1: SKEW, n2: SKEW, n3: OK, n4: OK, n5: MISSING },
    },
    {
      name: 'balanced zones: any zone',
      pod: pod('p', { labels: web, spread: [spread()] }),
      existing: [...on('n1'), ...on('n3'), ...on('n4')],
      want: { n1: OK, n2: OK, n3: OK, n4: OK, n5: MISSING },
    },
    {
      name: 'minDomains 4 with 3 zones: the global minimum is 0',
      pod: pod('p', { labels: web, spread: [spread({ minDomains: 4 })] }),
      existing: [...on('n1'), ...on('n3'), ...on('n4')],
      want: { n1: SKEW, n2: SKEW, n3: SKEW, n4: SKEW, n5: MISSING },
    },
    {
      name: 'minDomains 3 with 3 zones: no effect',
      pod: pod('p', { labels: web, spread: [spread({ minDomains: 3 })] }),
      existing: [...on('n1'), ...on('n3'), ...on('n4')],
      want: { n1: OK, n2: OK, n3: OK, n4: OK, n5: MISSING },
    },
    {
      name: "nodeAffinityPolicy Honor (default): zone c is not a domain for a pod that needs disk=ssd",
      pod: pod('p', { labels: web, spread: [spread()], nodeSelector: { disk: 'ssd' } }),
      existing: [...on('n1'), ...on('n3')],
      want: { n1: OK, n2: OK, n3: OK, n4: OK, n5: MISSING },
    },
    {
      name: 'nodeAffinityPolicy Ignore: empty zone c holds the minimum at 0',
      pod: pod('p', { labels: web, spread: [spread({ nodeAffinityPolicy: 'Ignore' })], nodeSelector: { disk: 'ssd' } }),
      existing: [...on('n1'), ...on('n3')],
      want: { n1: SKEW, n2: SKEW, n3: SKEW, n4: OK, n5: MISSING },
    },
    {
      name: 'nodeTaintsPolicy Ignore (default): the tainted zone c counts',
      pod: pod('p', { labels: web, spread: [spread()] }),
      existing: [...on('n1'), ...on('n3')],
      want: { n1: SKEW, n2: SKEW, n3: SKEW, n4: OK, n5: MISSING },
    },
    {
      name: 'nodeTaintsPolicy Honor: an untolerated taint takes zone c out',
      pod: pod('p', { labels: web, spread: [spread({ nodeTaintsPolicy: 'Honor' })] }),
      existing: [...on('n1'), ...on('n3')],
      want: { n1: OK, n2: OK, n3: OK, n4: OK, n5: MISSING },
    },
    {
      name: 'nodeTaintsPolicy Honor with a toleration: zone c counts again',
      pod: pod('p', { labels: web, spread: [spread({ nodeTaintsPolicy: 'Honor' })], tolerations: [{ key: 'dedicated', operator: 'Exists' }] }),
      existing: [...on('n1'), ...on('n3')],
      want: { n1: SKEW, n2: SKEW, n3: SKEW, n4: OK, n5: MISSING },
    },
    {
      name: 'pods of other namespaces and terminating pods do not count',
      pod: pod('p', { labels: web, spread: [spread()] }),
      existing: [...on('n1'), ...on('n3'), ...on('n4', 1, web, { ns: 'other' }), ...on('n4', 1, { app: 'web' }, { terminating: true })],
      want: { n1: SKEW, n2: SKEW, n3: SKEW, n4: OK, n5: MISSING },
    },
    {
      name: 'matchLabelKeys: only pods with the same pod-template-hash count',
      pod: pod('p', { labels: { app: 'web', hash: 'v2' }, spread: [spread({ matchLabelKeys: ['hash'] })] }),
      existing: [...on('n1', 2, { app: 'web', hash: 'v1' }), ...on('n3', 1, { app: 'web', hash: 'v2' })],
      want: { n1: OK, n2: OK, n3: SKEW, n4: OK, n5: MISSING },
    },
    {
      name: 'hostname: every node is a domain',
      pod: pod('p', { labels: web, spread: [spread({ topologyKey: HOST })] }),
      existing: [...on('n1')],
      want: { n1: SKEW, n2: OK, n3: OK, n4: OK, n5: OK },
    },
    {
      name: 'two constraints: both must hold, and nodes need both keys',
      pod: pod('p', { labels: web, spread: [spread({ maxSkew: 2 }), spread({ topologyKey: HOST })] }),
      existing: [...on('n1')],
      want: { n1: SKEW, n2: OK, n3: OK, n4: OK, n5: MISSING },
    },
    {
      name: 'ScheduleAnyway does not filter',
      pod: pod('p', { labels: web, spread: [spread({ whenUnsatisfiable: 'ScheduleAnyway' })] }),
      existing: [...on('n1', 5)],
      want: { n1: OK, n2: OK, n3: OK, n4: OK, n5: OK },
    },
    {
      name: 'an empty labelSelector counts no pods',
      pod: pod('p', { labels: web, spread: [spread({ labelSelector: {} })] }),
      existing: [...on('n1', 5)],
      want: { n1: OK, n2: OK, n3: OK, n4: OK, n5: MISSING },
    },
    {
      name: 'no constraints: the system defaults only score',
      pod: pod('p', { labels: web, owner: 'rs1' }),
      existing: [...on('n1', 5, web, { owner: 'rs1' })],
      want: { n1: OK, n2: OK, n3: OK, n4: OK, n5: OK },
    },
  ];
  for (const c of cases) assert.deepEqual(filterAll(PodTopologySpread, c.pod, cluster(NODES, c.existing, {}, taints)).reasons, c.want, c.name);
});

test('PodTopologySpread filter: a missing label is unresolvable, skew only unschedulable', () => {
  const { codes } = filterAll(PodTopologySpread, pod('p', { labels: web, spread: [spread()] }), cluster(NODES, on('n1', 2)));
  assert.deepEqual(codes, { n1: 'Unschedulable', n2: 'Unschedulable', n3: 'ok', n4: 'ok', n5: 'UnschedulableAndUnresolvable' });
});

test('PodTopologySpread score: table', () => {
  const anyway = (o: Partial<TopologySpreadConstraint> = {}) => spread({ whenUnsatisfiable: 'ScheduleAnyway', ...o });
  const three = { n1: { [ZONE]: 'a' }, n2: { [ZONE]: 'a' }, n3: { [ZONE]: 'b' } };
  const four = { ...three, n4: {} };
  const cases: { name: string; nodes: Record<string, Record<string, string>>; pod: Pod; existing: Pod[]; want: Record<string, number> }[] = [
    {
      // log(2 zones + 2) = 1.386; raw a = round(2 * 1.386) = 3, b = 0; normalized 100 * (max + min - s) / max.
      name: 'zone: the emptier zone wins',
      nodes: three,
      pod: pod('p', { labels: web, spread: [anyway()] }),
      existing: on('n1', 2),
      want: { n1: 0, n2: 0, n3: 100 },
    },
    {
      // log(3 + 2) = 1.609: raw n1 = round(3.22) = 3, n2 = round(1.61) = 2, n3 = 0.
      name: 'hostname: counted per node',
      nodes: three,
      pod: pod('p', { labels: web, spread: [anyway({ topologyKey: HOST })] }),
      existing: [...on('n1', 2), ...on('n2')],
      want: { n1: 0, n2: 33, n3: 100 },
    },
    {
      // maxSkew 3 adds 2 to every node: raw 5, 4, 2 → 100 * (7 - s) / 5.
      name: 'maxSkew waters differences down',
      nodes: three,
      pod: pod('p', { labels: web, spread: [anyway({ topologyKey: HOST, maxSkew: 3 })] }),
      existing: [...on('n1', 2), ...on('n2')],
      want: { n1: 40, n2: 60, n3: 100 },
    },
    {
      name: "the pod's own constraints: a node without the key scores 0",
      nodes: four,
      pod: pod('p', { labels: web, spread: [anyway()] }),
      existing: on('n1', 2),
      want: { n1: 0, n2: 0, n3: 100, n4: 0 },
    },
    {
      // Defaults: hostname maxSkew 3 (log(4 + 2) = 1.792) and zone maxSkew 5 (zones a, b and '' → log(5) = 1.609);
      // only rs1's pods count. Raw: n1 = 2*1.792+2 + 2*1.609+4 = 12.8 → 13, n2 = 2 + 7.22 → 9, n3 = 2 + 4 = 6,
      // n4 (no zone) = 2. Normalized 100 * (15 - s) / 13.
      name: 'system defaults for a pod of a ReplicaSet, hostname spreading even without a zone',
      nodes: four,
      pod: pod('p', { labels: web, owner: 'rs1' }),
      existing: [...on('n1', 2, web, { owner: 'rs1' }), ...on('n2', 3, web, { owner: 'rs2' })],
      want: { n1: 15, n2: 46, n3: 69, n4: 100 },
    },
    { name: 'no owner, no constraints: nothing to score', nodes: three, pod: pod('p', { labels: web }), existing: on('n1', 2), want: { n1: 0, n2: 0, n3: 0 } },
    { name: 'DoNotSchedule constraints do not score', nodes: three, pod: pod('p', { labels: web, spread: [spread()] }), existing: on('n1', 2), want: { n1: 0, n2: 0, n3: 0 } },
  ];
  for (const c of cases) assert.deepEqual(scoreAll(PodTopologySpreadScore, c.pod, cluster(c.nodes, c.existing)), c.want, c.name);
});

test('schedulePod: eight replicas spread over three zones stay within maxSkew 1', () => {
  const nodes = { n1: { [ZONE]: 'a' }, n2: { [ZONE]: 'a' }, n3: { [ZONE]: 'b' }, n4: { [ZONE]: 'c' } };
  const replica = (i: number, node?: string) => pod(`web-${i}`, { labels: web, node, spread: [spread()] });
  const placed: Pod[] = [];
  for (let i = 0; i < 8; i++) {
    const r = schedulePod(replica(i), cluster(nodes, placed), defaultProfile(), i);
    assert.ok(r.ok, `replica ${i}`);
    if (r.ok) placed.push(replica(i, r.nodeName));
    const perZone = { a: 0, b: 0, c: 0 };
    for (const p of placed) perZone[nodes[p.spec!.nodeName as keyof typeof nodes][ZONE] as keyof typeof perZone]++;
    assert.ok(Math.max(...Object.values(perZone)) - Math.min(...Object.values(perZone)) <= 1, JSON.stringify(perZone));
  }
});

test('PodTopologySpread filter on a node without some of its pods (a preemption dry run) recounts its domain', () => {
  const snap = cluster({ n1: { [ZONE]: 'a' }, n2: { [ZONE]: 'b' } }, on('n1', 2));
  const incoming = pod('p', { labels: web, spread: [spread()] });
  const state = new CycleState();
  PodTopologySpread.preFilter!(incoming, snap, state);
  const n1 = snap.get('n1')!;
  assert.deepEqual(PodTopologySpread.filter(incoming, n1, state)?.reasons, [SKEW]);
  assert.deepEqual(PodTopologySpread.filter(incoming, mkInfo(n1.node, n1.pods.slice(1)), state)?.reasons, [SKEW]);
  assert.equal(PodTopologySpread.filter(incoming, mkInfo(n1.node, []), state), undefined);
  assert.equal(PodTopologySpread.filter(incoming, snap.get('n2')!, state), undefined);
});
