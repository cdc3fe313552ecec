import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { findPreemption, pickOneNode, splitByPDBViolation, withNominatedPods, type Candidate } from './preemption';
import { schedulePod } from './schedule';
import { defaultProfile } from './plugins/registry';
import { mkInfo, mkNode, mkPod, mkSnapshot } from './testutil';
import type { NodeInfo } from './framework';

/** A pod with a priority, cpu request, optional node, labels and start time (seconds). */
function pp(name: string, priority: number, cpu: string, o: { node?: string; labels?: Record<string, string>; start?: number; never?: boolean; nominated?: string; terminating?: boolean } = {}): Pod {
  const p = mkPod(name, { cpu, node: o.node, phase: o.node ? 'Running' : 'Pending' });
  p.spec!.priority = priority;
  if (o.never) p.spec!.preemptionPolicy = 'Never';
  p.metadata!.labels = o.labels;
  if (o.terminating) Object.assign(p.metadata!, { deletionTimestamp: '2026-01-01T00:00:00Z' });
  if (o.start !== undefined) p.status!.startTime = new Date(Date.UTC(2026, 0, 1, 0, 0, o.start)).toISOString();
  if (o.nominated) p.status!.nominatedNodeName = o.nominated;
  return p;
}
const node = (name: string, pods: Pod[], cpu = '2', extra: Parameters<typeof mkNode>[1] = {}): NodeInfo => mkInfo(mkNode(name, { cpu, ...extra }), pods.map((p) => ({ ...p, spec: { ...p.spec!, nodeName: name } })));
const pdb = (name: string, app: string, allowed: number, disrupted: string[] = []): PodDisruptionBudget => ({
  metadata: { name, namespace: 'default' }, spec: { selector: { matchLabels: { app } } },
  status: { disruptionsAllowed: allowed, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptedPods: Object.fromEntries(disrupted.map((d) => [d, '2026-01-01T00:00:00Z'])) },
});

/** Runs a failed schedulePod then findPreemption, as the scheduler does; returns "node: victims" or the message. */
function preempt(pod: Pod, nodes: NodeInfo[], pdbs: PodDisruptionBudget[] = [], nominated?: Pod[]): string {
  const snapshot = mkSnapshot(nominated ? withNominatedPods(nodes, nominated, pod) : nodes);
  const profile = defaultProfile();
  const r = schedulePod(pod, snapshot, profile);
  if (r.ok) return `fits on ${r.nodeName}`;
  const out = findPreemption({ pod, snapshot, profile, diagnosis: r.diagnosis, preFilter: r.preFilter, state: r.state, pdbs, nominated });
  return out.ok ? `${out.candidate.nodeName}: ${out.candidate.victims.map((v) => v.metadata?.name).join(',')}${out.candidate.pdbViolations ? ` (${out.candidate.pdbViolations} PDB)` : ''}` : out.message;
}

test('DefaultPreemption: which node is freed and which pods go; table', () => {
  const hi = (cpu = '1') => pp('hi', 100, cpu);
  const cases: [string, Pod, NodeInfo[], PodDisruptionBudget[], string][] = [
    ['the fewest victims that free enough: one of two low pods', hi(), [node('a', [pp('l1', 1, '1'), pp('l2', 2, '1')])], [], 'a: l1'],
    ['the lowest priority goes, the more important is reprieved', hi(), [node('a', [pp('l2', 2, '1'), pp('l1', 1, '1')])], [], 'a: l1'],
    ['both must go when one is not enough', hi('2'), [node('a', [pp('l1', 1, '1'), pp('l2', 2, '1')])], [], 'a: l2,l1'],
    ['higher or equal priority pods are never victims', hi(), [node('a', [pp('eq', 100, '1'), pp('top', 200, '1')])], [],
      '0/1 nodes are available: 1 No preemption victims found for incoming pod.'],
    ['evicting every lower pod would not be enough: the filter says why', hi('2'), [node('a', [pp('l', 1, '1'), pp('top', 200, '1')])], [],
      '0/1 nodes are available: 1 Insufficient cpu.'],
    ['unresolvable nodes are skipped (an unschedulable node)', hi(), [node('a', [pp('l', 1, '2')], '2', { unschedulable: true }), node('b', [pp('top', 200, '2')])], [],
      '0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.'],
    ['node with the lowest highest-victim priority', hi(), [node('a', [pp('a5', 5, '2')]), node('b', [pp('b3', 3, '2')])], [], 'b: b3'],
    ['then the smallest priority sum', hi('2'), [node('a', [pp('a1', 1, '1'), pp('a4', 4, '1')]), node('b', [pp('b3', 3, '1'), pp('b4', 4, '1')])], [], 'a: a4,a1'],
    ['then the fewest victims', hi('2'), [node('a', [pp('a1', 0, '1'), pp('a2', 0, '1')]), node('b', [pp('b', 0, '2')])], [], 'b: b'],
    ['then the node whose top victim started last', hi(), [node('a', [pp('old', 1, '2', { start: 1 })]), node('b', [pp('new', 1, '2', { start: 9 })])], [], 'b: new'],
    ['a PDB-protected pod is spared where another node has none', hi(),
      [node('a', [pp('db', 1, '2', { labels: { app: 'db' } })]), node('b', [pp('web', 5, '2', { labels: { app: 'web' } })])], [pdb('db', 'db', 0)], 'b: web'],
    ['a budget with room allows it', hi(),
      [node('a', [pp('db', 1, '2', { labels: { app: 'db' } })]), node('b', [pp('web', 5, '2', { labels: { app: 'web' } })])], [pdb('db', 'db', 1)], 'a: db'],
    ['violating a budget when nothing else works, counted', hi(), [node('a', [pp('db', 1, '2', { labels: { app: 'db' } })])], [pdb('db', 'db', 0)], 'a: db (1 PDB)'],
    ['violating victims are reprieved first', hi(), [node('a', [pp('db', 1, '1', { labels: { app: 'db' } }), pp('x', 1, '1')])], [pdb('db', 'db', 0)], 'a: x'],
    ['preemptionPolicy Never: no preemption', pp('hi', 100, '1', { never: true }), [node('a', [pp('l', 1, '2')])], [], 'not eligible due to preemptionPolicy=Never.'],
    ['a victim still terminating on the nominated node: wait', pp('hi', 100, '1', { nominated: 'a' }), [node('a', [pp('l', 1, '2', { terminating: true })])], [],
      'not eligible due to a terminating pod on the nominated node.'],
  ];
  for (const [name, pod, nodes, pdbs, want] of cases) assert.equal(preempt(pod, nodes, pdbs), want, name);
});

test('DefaultPreemption: a pod nominated to a node keeps its room from lower pods, not from higher ones', () => {
  const waiting = pp('waiting', 50, '1', { nominated: 'a' });
  const nodes = [node('a', [pp('l', 1, '1')])];
  // a mid-priority pod would have to evict `l` and still not fit beside the nominated pod
  assert.equal(preempt(pp('mid', 10, '2'), nodes, [], [waiting]), '0/1 nodes are available: 1 Insufficient cpu.');
  // a higher one does not see it
  assert.equal(preempt(pp('hi', 100, '2'), nodes, [], [waiting]), 'a: l');
  const infos = withNominatedPods(nodes, [waiting], pp('low', 1, '1'));
  assert.deepEqual(infos[0].pods.map((p) => p.metadata?.name), ['l', 'waiting']);
  assert.equal(withNominatedPods(nodes, [waiting], pp('top', 60, '1'))[0], nodes[0], 'untouched for a more important pod');
});

test('PDB split: a budget allows disruptionsAllowed evictions; already-disrupted pods are not counted again; table', () => {
  const pods = [pp('a', 1, '1', { labels: { app: 'x' } }), pp('b', 1, '1', { labels: { app: 'x' } }), pp('c', 1, '1', { labels: { app: 'y' } })];
  const names = (s: { violating: Pod[]; nonViolating: Pod[] }) => [s.violating.map((p) => p.metadata?.name).join(','), s.nonViolating.map((p) => p.metadata?.name).join(',')];
  assert.deepEqual(names(splitByPDBViolation(pods, [])), ['', 'a,b,c']);
  assert.deepEqual(names(splitByPDBViolation(pods, [pdb('x', 'x', 1)])), ['b', 'a,c']);
  assert.deepEqual(names(splitByPDBViolation(pods, [pdb('x', 'x', 0, ['a'])])), ['b', 'a,c']);
  const other = { ...pdb('x', 'x', 0), metadata: { name: 'x', namespace: 'other' } };
  assert.deepEqual(names(splitByPDBViolation(pods, [other])), ['', 'a,b,c'], 'another namespace');
});

test('pickOneNode: a candidate without victims wins at once; else the order of the criteria', () => {
  const c = (nodeName: string, victims: Pod[], pdbViolations = 0): Candidate => ({ nodeName, victims, pdbViolations });
  assert.equal(pickOneNode([])?.nodeName, undefined);
  assert.equal(pickOneNode([c('a', [pp('x', 1, '1')]), c('b', [])])?.nodeName, 'b');
  assert.equal(pickOneNode([c('a', [pp('x', 1, '1')], 1), c('b', [pp('y', 9, '1')])])?.nodeName, 'b', 'fewer PDB violations beats priority');
  assert.equal(pickOneNode([c('a', [pp('x', -5, '1'), pp('y', -5, '1')]), c('b', [pp('z', -5, '1')])])?.nodeName, 'b', 'negative priorities: fewer victims has the smaller sum');
});
