import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { ERR_AFFINITY, ERR_ANTI_AFFINITY, ERR_EXISTING_ANTI_AFFINITY, InterPodAffinity, InterPodAffinityScore } from './interPodAffinity';
import { cluster, filterAll, pod, scoreAll, term } from './affinityTestutil';
import { schedulePod } from '../schedule';
import { CycleState } from '../framework';
import { mkInfo } from '../testutil';
import { defaultProfile } from './registry';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const OK = 'ok';
// Two zones: a holds n1 and n2, b holds n3; n4 has no zone label.
const NODES = { n1: { [ZONE]: 'a' }, n2: { [ZONE]: 'a' }, n3: { [ZONE]: 'b' }, n4: {} };

const antiOf = (...terms: ReturnType<typeof term>[]) => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } });
const affOf = (...terms: ReturnType<typeof term>[]) => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } });

test('InterPodAffinity filter: table', () => {
  const web = { app: 'web' };
  const cases: { name: string; pod: Pod; existing: Pod[]; ns?: Record<string, Record<string, string>>; want: Record<string, string> }[] = [
    { name: 'no terms anywhere', pod: pod('p'), existing: [pod('e', { labels: web, node: 'n1' })], want: { n1: OK, n2: OK, n3: OK, n4: OK } },
    {
      name: 'anti-affinity by hostname',
      pod: pod('p', { labels: web, affinity: antiOf(term(web)) }),
      existing: [pod('e', { labels: web, node: 'n1' })],
      want: { n1: ERR_ANTI_AFFINITY, n2: OK, n3: OK, n4: OK },
    },
    {
      name: 'anti-affinity by zone: the whole zone is out, a node without the key is fine',
      pod: pod('p', { affinity: antiOf(term(web, ZONE)) }),
      existing: [pod('e', { labels: web, node: 'n1' })],
      want: { n1: ERR_ANTI_AFFINITY, n2: ERR_ANTI_AFFINITY, n3: OK, n4: OK },
    },
    {
      name: 'anti-affinity ignores pods that do not match and finished pods',
      pod: pod('p', { affinity: antiOf(term(web)) }),
      existing: [pod('e', { labels: { app: 'db' }, node: 'n1' }), pod('done', { labels: web, node: 'n2', phase: 'Succeeded' })],
      want: { n1: OK, n2: OK, n3: OK, n4: OK },
    },
    {
      name: 'affinity by zone: only the zone holding a match; a node without the key fails',
      pod: pod('p', { affinity: affOf(term({ app: 'db' }, ZONE)) }),
      existing: [pod('db', { labels: { app: 'db' }, node: 'n3' })],
      want: { n1: ERR_AFFINITY, n2: ERR_AFFINITY, n3: OK, n4: ERR_AFFINITY },
    },
    {
      name: 'affinity with no match anywhere and the pod not matching itself: nowhere',
      pod: pod('p', { affinity: affOf(term({ app: 'db' }, ZONE)) }),
      existing: [],
      want: { n1: ERR_AFFINITY, n2: ERR_AFFINITY, n3: ERR_AFFINITY, n4: ERR_AFFINITY },
    },
    {
      name: 'affinity to itself, first of its group: any node carrying the key',
      pod: pod('p', { labels: web, affinity: affOf(term(web, ZONE)) }),
      existing: [],
      want: { n1: OK, n2: OK, n3: OK, n4: ERR_AFFINITY },
    },
    {
      name: 'affinity to itself once a match exists: only that zone',
      pod: pod('p', { labels: web, affinity: affOf(term(web, ZONE)) }),
      existing: [pod('e', { labels: web, node: 'n2' })],
      want: { n1: OK, n2: OK, n3: ERR_AFFINITY, n4: ERR_AFFINITY },
    },
    {
      name: 'several affinity terms must be matched by the same pod',
      pod: pod('p', { affinity: affOf(term({ app: 'db' }, ZONE), term({ tier: 'cache' }, ZONE)) }),
      existing: [pod('db', { labels: { app: 'db' }, node: 'n1' }), pod('cache', { labels: { tier: 'cache' }, node: 'n1' }), pod('both', { labels: { app: 'db', tier: 'cache' }, node: 'n3' })],
      want: { n1: ERR_AFFINITY, n2: ERR_AFFINITY, n3: OK, n4: ERR_AFFINITY },
    },
    {
      name: 'symmetry: a placed pod whose anti-affinity selects the incoming pod keeps it off its node',
      pod: pod('p', { labels: web }),
      existing: [pod('e', { labels: { app: 'db' }, node: 'n1', affinity: antiOf(term(web)) })],
      want: { n1: ERR_EXISTING_ANTI_AFFINITY, n2: OK, n3: OK, n4: OK },
    },
    {
      name: 'symmetry by zone',
      pod: pod('p', { labels: web }),
      existing: [pod('e', { node: 'n3', affinity: antiOf(term(web, ZONE)) })],
      want: { n1: OK, n2: OK, n3: ERR_EXISTING_ANTI_AFFINITY, n4: OK },
    },
    {
      name: "symmetry: a placed pod's term in its own namespace does not select a pod of another namespace",
      pod: pod('p', { ns: 'other', labels: web }),
      existing: [pod('e', { node: 'n1', affinity: antiOf(term(web)) })],
      want: { n1: OK, n2: OK, n3: OK, n4: OK },
    },
    {
      name: "symmetry: a placed pod's namespaceSelector matches the incoming pod's namespace labels",
      pod: pod('p', { ns: 'shop', labels: web }),
      existing: [pod('e', { node: 'n1', affinity: antiOf(term(web, HOST, { namespaceSelector: { matchLabels: { team: 'a' } } })) })],
      ns: { shop: { team: 'a' } },
      want: { n1: ERR_EXISTING_ANTI_AFFINITY, n2: OK, n3: OK, n4: OK },
    },
    {
      name: 'the incoming pod checks its own anti-affinity first',
      pod: pod('p', { labels: web, affinity: antiOf(term(web)) }),
      existing: [pod('e', { labels: web, node: 'n1', affinity: antiOf(term(web)) })],
      want: { n1: ERR_ANTI_AFFINITY, n2: OK, n3: OK, n4: OK },
    },
    {
      name: 'terms default to the pod namespace',
      pod: pod('p', { affinity: antiOf(term(web)) }),
      existing: [pod('e', { ns: 'other', labels: web, node: 'n1' })],
      want: { n1: OK, n2: OK, n3: OK, n4: OK },
    },
    {
      name: 'namespaces lists where to look',
      pod: pod('p', { affinity: antiOf(term(web, HOST, { namespaces: ['other'] })) }),
      existing: [pod('e1', { ns: 'other', labels: web, node: 'n1' }), pod('e2', { labels: web, node: 'n2' })],
      want: { n1: ERR_ANTI_AFFINITY, n2: OK, n3: OK, n4: OK },
    },
    {
      name: 'namespaceSelector picks namespaces by label',
      pod: pod('p', { affinity: antiOf(term(web, HOST, { namespaceSelector: { matchLabels: { team: 'a' } } })) }),
      existing: [pod('e1', { ns: 'x', labels: web, node: 'n1' }), pod('e2', { ns: 'y', labels: web, node: 'n2' }), pod('e3', { labels: web, node: 'n3' })],
      ns: { x: { team: 'a' }, y: { team: 'b' } },
      want: { n1: ERR_ANTI_AFFINITY, n2: OK, n3: OK, n4: OK },
    },
    {
      name: 'an empty namespaceSelector means every namespace',
      pod: pod('p', { affinity: antiOf(term(web, HOST, { namespaceSelector: {} })) }),
      existing: [pod('e1', { ns: 'x', labels: web, node: 'n1' }), pod('e2', { ns: 'y', labels: web, node: 'n2' })],
      want: { n1: ERR_ANTI_AFFINITY, n2: ERR_ANTI_AFFINITY, n3: OK, n4: OK },
    },
    {
      name: 'namespaces and namespaceSelector are ORed',
      pod: pod('p', { affinity: antiOf(term(web, HOST, { namespaces: ['y'], namespaceSelector: { matchLabels: { team: 'a' } } })) }),
      existing: [pod('e1', { ns: 'x', labels: web, node: 'n1' }), pod('e2', { ns: 'y', labels: web, node: 'n2' }), pod('e3', { labels: web, node: 'n3' })],
      ns: { x: { team: 'a' } },
      want: { n1: ERR_ANTI_AFFINITY, n2: ERR_ANTI_AFFINITY, n3: OK, n4: OK },
    },
    {
      name: 'a term without a labelSelector matches no pod',
      pod: pod('p', { affinity: antiOf({ topologyKey: HOST }) }),
      existing: [pod('e', { labels: web, node: 'n1' })],
      want: { n1: OK, n2: OK, n3: OK, n4: OK },
    },
    {
      name: 'matchLabelKeys: only pods with the same value repel',
      pod: pod('p', { labels: { app: 'web', hash: 'v2' }, affinity: antiOf(term(web, HOST, { matchLabelKeys: ['hash'] })) }),
      existing: [pod('old', { labels: { app: 'web', hash: 'v1' }, node: 'n1' }), pod('new', { labels: { app: 'web', hash: 'v2' }, node: 'n2' })],
      want: { n1: OK, n2: ERR_ANTI_AFFINITY, n3: OK, n4: OK },
    },
    {
      name: 'mismatchLabelKeys: only pods with another value repel',
      pod: pod('p', { labels: { tenant: 'a' }, affinity: antiOf(term({}, ZONE, { mismatchLabelKeys: ['tenant'] })) }),
      existing: [pod('b', { labels: { tenant: 'b' }, node: 'n3' }), pod('a', { labels: { tenant: 'a' }, node: 'n1' })],
      want: { n1: OK, n2: OK, n3: ERR_ANTI_AFFINITY, n4: OK },
    },
  ];
  for (const c of cases) assert.deepEqual(filterAll(InterPodAffinity, c.pod, cluster(NODES, c.existing, c.ns)).reasons, c.want, c.name);
});

test('InterPodAffinity filter: affinity is unresolvable, anti-affinity only unschedulable (preemption can help)', () => {
  const web = { app: 'web' };
  const snap = cluster(NODES, [pod('e', { labels: web, node: 'n1', affinity: antiOf(term({ app: 'x' })) })]);
  assert.deepEqual(filterAll(InterPodAffinity, pod('p', { affinity: affOf(term({ app: 'db' })) }), snap).codes.n1, 'UnschedulableAndUnresolvable');
  assert.deepEqual(filterAll(InterPodAffinity, pod('p', { affinity: antiOf(term(web)) }), snap).codes.n1, 'Unschedulable');
  assert.deepEqual(filterAll(InterPodAffinity, pod('p', { labels: { app: 'x' } }), snap).codes.n1, 'Unschedulable');
});

test('InterPodAffinity score: table', () => {
  const pref = (w: number, t: ReturnType<typeof term>) => [{ weight: w, podAffinityTerm: t }];
  const db = { app: 'db' };
  const cases: { name: string; pod: Pod; existing: Pod[]; want: Record<string, number> }[] = [
    { name: 'nothing to score', pod: pod('p'), existing: [pod('e', { labels: db, node: 'n1' })], want: { n1: 0, n2: 0, n3: 0, n4: 0 } },
    {
      name: 'preferred affinity by zone',
      pod: pod('p', { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: pref(10, term(db, ZONE)) } } }),
      existing: [pod('e', { labels: db, node: 'n3' })],
      want: { n1: 0, n2: 0, n3: 100, n4: 0 },
    },
    {
      name: 'preferred anti-affinity by hostname',
      pod: pod('p', { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: pref(5, term(db)) } } }),
      existing: [pod('e', { labels: db, node: 'n1' })],
      want: { n1: 0, n2: 100, n3: 100, n4: 100 },
    },
    {
      name: 'weights add up and normalize between lowest and highest',
      pod: pod('p', {
        affinity: {
          podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: pref(6, term(db, ZONE)) },
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: pref(3, term({ role: 'primary' })) },
        },
      }),
      // zone a: +6 per db pod; n1 also -3 for its primary → n1 = 12 - 3 = 9, n2 = 12, n3 = 0, n4 = 0
      existing: [pod('e1', { labels: { ...db, role: 'primary' }, node: 'n1' }), pod('e2', { labels: db, node: 'n2' })],
      want: { n1: 75, n2: 100, n3: 0, n4: 0 },
    },
    {
      name: "a placed pod's required affinity to the incoming pod attracts it (hardPodAffinityWeight 1)",
      pod: pod('p', { labels: db }),
      existing: [pod('e', { node: 'n2', affinity: affOf(term(db)) })],
      want: { n1: 0, n2: 100, n3: 0, n4: 0 },
    },
    {
      name: "a placed pod's preferred anti-affinity to the incoming pod repels it",
      pod: pod('p', { labels: db }),
      existing: [pod('e', { node: 'n3', affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: pref(4, term(db, ZONE)) } } })],
      want: { n1: 100, n2: 100, n3: 0, n4: 100 },
    },
    {
      name: "a placed pod's preferred affinity in another namespace does not select the pod",
      pod: pod('p', { labels: db }),
      existing: [pod('e', { ns: 'other', node: 'n3', affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: pref(4, term(db)) } } })],
      want: { n1: 0, n2: 0, n3: 0, n4: 0 },
    },
  ];
  for (const c of cases) {
    const snap = cluster(NODES, c.existing);
    assert.deepEqual(scoreAll(InterPodAffinityScore, c.pod, snap), c.want, c.name);
    // After PreFilter, PreScore reuses the placed pods with terms it found: same result.
    assert.deepEqual(scoreAll(InterPodAffinityScore, c.pod, snap, snap.nodes, InterPodAffinity), c.want, `${c.name} (after PreFilter)`);
  }
});

test('InterPodAffinity score: truncates as upstream (100 * (s - min) / (max - min))', () => {
  // Raw scores 0, 29 and 100 (weights): 100 * (29 / 100) is 28.999… in floating point, so 28.
  const pref = (w: number, labels: Record<string, string>) => ({ weight: w, podAffinityTerm: term(labels) });
  const p = pod('p', { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [pref(29, { a: '1' }), pref(71, { b: '1' })] } } });
  const snap = cluster({ n1: {}, n2: {}, n3: {} }, [pod('x', { labels: { a: '1' }, node: 'n2' }), pod('y', { labels: { a: '1', b: '1' }, node: 'n3' })]);
  assert.deepEqual(scoreAll(InterPodAffinityScore, p, snap), { n1: 0, n2: Math.trunc(100 * (29 / 100)), n3: 100 });
});

test('schedulePod: four replicas with required anti-affinity on three nodes; the fourth stays pending', () => {
  const web = { app: 'web' };
  const replica = (i: number, node?: string) => pod(`web-${i}`, { labels: web, node, affinity: antiOf(term(web)) });
  const placed: Pod[] = [];
  const nodes = { n1: {}, n2: {}, n3: {} };
  for (let i = 0; i < 3; i++) {
    const r = schedulePod(replica(i), cluster(nodes, placed), defaultProfile());
    assert.ok(r.ok, `replica ${i}`);
    if (r.ok) placed.push(replica(i, r.nodeName));
  }
  assert.deepEqual(placed.map((p) => p.spec?.nodeName).sort(), ['n1', 'n2', 'n3']);
  const r = schedulePod(replica(3), cluster(nodes, placed), defaultProfile());
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.message, "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
    assert.deepEqual([...r.diagnosis.values()].map((s) => [s.plugin, s.code]), Array(3).fill(['InterPodAffinity', 'Unschedulable']));
  }
});

test('InterPodAffinity filter on a node without some of its pods (a preemption dry run) recounts that node', () => {
  const web = { app: 'web' };
  const blocker = pod('e', { labels: web, node: 'n1' });
  const other = pod('o', { labels: { app: 'db' }, node: 'n1', affinity: antiOf(term(web)) });
  const snap = cluster(NODES, [blocker, other, pod('e2', { labels: web, node: 'n3' })]);
  const incoming = pod('p', { labels: web, affinity: antiOf(term(web)) });
  const state = new CycleState();
  InterPodAffinity.preFilter!(incoming, snap, state);
  const n1 = snap.get('n1')!;
  assert.deepEqual(InterPodAffinity.filter(incoming, n1, state)?.reasons, [ERR_ANTI_AFFINITY]);
  // Without the matching pod, the symmetric rule of the other pod still holds n1 back.
  assert.deepEqual(InterPodAffinity.filter(incoming, mkInfo(n1.node, [other]), state)?.reasons, [ERR_EXISTING_ANTI_AFFINITY]);
  assert.equal(InterPodAffinity.filter(incoming, mkInfo(n1.node, []), state), undefined);
  // Other nodes still see the snapshot's counts.
  assert.deepEqual(InterPodAffinity.filter(incoming, snap.get('n3')!, state)?.reasons, [ERR_ANTI_AFFINITY]);
});
