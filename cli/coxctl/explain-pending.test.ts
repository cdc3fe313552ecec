import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { ANN_LAST_ATTEMPT, encodeLastAttempt, groupRejections, type LastAttempt, type RejectionCode } from '../../lib/scheduling-diagnosis';
import { explainPending, groupedRows, PER_NODE_LIMIT, perNodeRows, schedulingSection, someNames } from './explain-pending';

const NOW = Date.parse('2026-12-07T06:10:00Z');
const TAINT = 'node(s) had untolerated taint {gpu: true}';
const SELECTOR = "node(s) didn't match Pod's node affinity/selector";
const PREEMPTION = '0/4 nodes are available: 1 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.';
const SUMMARY = "0/4 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {gpu: true}, 1 node(s) were unschedulable.";

const verdict = (plugin: string, code: RejectionCode, ...reasons: string[]) => ({ plugin, code, reasons });

function fourNodes(): LastAttempt {
  return {
    time: '2026-12-07T06:09:55Z',
    nodes: 4,
    message: `${SUMMARY} preemption: ${PREEMPTION}`,
    rejected: groupRejections([
      ['zone-a-10', verdict('NodeUnschedulable', 'UnschedulableAndUnresolvable', 'node(s) were unschedulable')],
      ['zone-a-0', verdict('TaintToleration', 'UnschedulableAndUnresolvable', TAINT)],
      ['zone-a-2', verdict('NodeAffinity', 'UnschedulableAndUnresolvable', SELECTOR)],
      ['zone-a-1', verdict('NodeResourcesFit', 'Unschedulable', 'Insufficient cpu')],
    ]),
    preemption: PREEMPTION,
  };
}

function pendingPod(attempt?: LastAttempt | string, extra: { spec?: Pod['spec']; status?: Pod['status'] } = {}): Pod {
  const annotations = attempt === undefined ? undefined : { [ANN_LAST_ATTEMPT]: typeof attempt === 'string' ? attempt : encodeLastAttempt(attempt) };
  return {
    metadata: { name: 'big', namespace: 'default', creationTimestamp: '2026-12-07T06:08:00Z', annotations },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36' }], ...extra.spec },
    status: extra.status ?? { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: SUMMARY, lastTransitionTime: '2026-12-07T06:08:01Z' }] },
  };
}

test('a pending pod: its condition, the attempt, and one line per node sorted by name (zone-a-2 before zone-a-10)', () => {
  const e = explainPending(pendingPod(fourNodes()), { now: NOW });
  assert.equal(e.code, 0);
  assert.equal(e.stderr, '');
  assert.equal(
    e.stdout,
    [
      'Pod:                default/big',
      'Status:             Pending, PodScheduled=False (Unschedulable) for 119s',
      'Last Attempt:       on 4 nodes, same result since 5s ago (2026-12-07T06:09:55Z)',
      `FailedScheduling:   ${SUMMARY}`,
      `Preemption:         ${PREEMPTION}`,
      'Nominated Node:     <none>',
      '',
      'NODE        PLUGIN              REASON',
      `zone-a-0    TaintToleration     ${TAINT}`,
      'zone-a-1    NodeResourcesFit    Insufficient cpu',
      `zone-a-2    NodeAffinity        ${SELECTOR}`,
      'zone-a-10   NodeUnschedulable   node(s) were unschedulable',
      '',
    ].join('\n'),
  );
});

test('-o wide adds the filter status, which tells whether preemption could help on that node', () => {
  const rows = perNodeRows(fourNodes(), true);
  assert.deepEqual(rows.map((r) => [r[0], r[3]]), [
    ['zone-a-0', 'UnschedulableAndUnresolvable'],
    ['zone-a-1', 'Unschedulable'],
    ['zone-a-2', 'UnschedulableAndUnresolvable'],
    ['zone-a-10', 'UnschedulableAndUnresolvable'],
  ]);
  const out = explainPending(pendingPod(fourNodes()), { now: NOW, wide: true }).stdout;
  assert.match(out, /^NODE\s+PLUGIN\s+REASON\s+STATUS$/m);
  assert.match(out, /^zone-a-1\s+NodeResourcesFit\s+Insufficient cpu\s+Unschedulable$/m);
});

test('a node rejected for several reasons by one plugin shows them on its line', () => {
  const a = { ...fourNodes(), nodes: 1, rejected: groupRejections([['n0', verdict('NodeResourcesFit', 'Unschedulable', 'Insufficient cpu', 'Insufficient memory')]]) };
  assert.deepEqual(perNodeRows(a), [['n0', 'NodeResourcesFit', 'Insufficient cpu, Insufficient memory']]);
});

test('a PreFilter rejection is one line for all nodes', () => {
  const a: LastAttempt = {
    time: '2026-12-07T06:09:00Z',
    nodes: 3,
    message: "0/3 nodes are available: persistentvolumeclaim \"data\" not found.",
    preFilter: { plugin: 'VolumeBinding', reasons: ['persistentvolumeclaim "data" not found'] },
    rejected: [],
  };
  const e = explainPending(pendingPod(a), { now: NOW });
  assert.equal(e.code, 0);
  assert.match(e.stdout, /^Last Attempt:\s+on 3 nodes, same result since 60s ago \(2026-12-07T06:09:00Z\)$/m);
  assert.match(e.stdout, /^Preemption:\s+<none>$/m);
  const table = e.stdout.slice(e.stdout.indexOf('NODE'));
  assert.equal(table, 'NODE            PLUGIN          REASON\n(all 3 nodes)   VolumeBinding   persistentvolumeclaim "data" not found\n');
});

test('no nodes at all is said in words', () => {
  const a: LastAttempt = { time: '2026-12-07T06:09:59Z', nodes: 0, message: '0/0 nodes are available: no nodes available to schedule pods.', rejected: [] };
  const e = explainPending(pendingPod(a), { now: NOW });
  assert.equal(e.code, 0);
  assert.match(e.stdout, /\n\nNo nodes: the cluster has no node the scheduler could consider\.\n$/);
});

function manyNodes(n: number): LastAttempt {
  const perNode: [string, ReturnType<typeof verdict>][] = [];
  for (let i = 0; i < n; i++) {
    const name = `zone-a-${i}`;
    perNode.push([name, i < 3 ? verdict('TaintToleration', 'UnschedulableAndUnresolvable', TAINT) : verdict('NodeResourcesFit', 'Unschedulable', 'Insufficient cpu')]);
  }
  return { time: '2026-12-07T06:09:58Z', nodes: n, message: `0/${n} nodes are available: ${n - 3} Insufficient cpu, 3 ${TAINT}.`, rejected: groupRejections(perNode) };
}

test(`more than ${PER_NODE_LIMIT} nodes are grouped by reason, largest group first; --all and -o wide list every node`, () => {
  const a = manyNodes(1000);
  const e = explainPending(pendingPod(a), { now: NOW });
  assert.equal(e.code, 0);
  const table = e.stdout.slice(e.stdout.indexOf('COUNT'));
  assert.equal(
    table,
    [
      'COUNT   PLUGIN             REASON                                      NODES',
      '997     NodeResourcesFit   Insufficient cpu                            zone-a-3, zone-a-4, zone-a-5, zone-a-6, zone-a-7, … (+992 more)',
      `3       TaintToleration    ${TAINT}   zone-a-0, zone-a-1, zone-a-2`,
      '',
      '1000 nodes grouped by reason; --all (or -o wide) prints one line per node.',
      '',
    ].join('\n'),
  );
  for (const opts of [{ all: true }, { wide: true }]) {
    const lines = explainPending(pendingPod(a), { now: NOW, ...opts }).stdout.split('\n');
    const rows = lines.slice(lines.findIndex((l) => l.startsWith('NODE ')) + 1).filter((l) => l);
    assert.equal(rows.length, 1000);
    assert.match(rows[999], /^zone-a-999\s+NodeResourcesFit\s+Insufficient cpu/);
  }
  assert.equal(perNodeRows(manyNodes(PER_NODE_LIMIT)).length, PER_NODE_LIMIT);
  assert.match(explainPending(pendingPod(manyNodes(PER_NODE_LIMIT)), { now: NOW }).stdout, /^NODE\s+PLUGIN\s+REASON$/m);
});

test('someNames: name order, numbers compared as numbers, the rest counted', () => {
  assert.equal(someNames(['n10', 'n2', 'n1']), 'n1, n2, n10');
  assert.equal(someNames(['a', 'b', 'c'], 2), 'a, b, … (+1 more)');
});

test('the nominated node comes from the pod status, else from the attempt', () => {
  const a = { ...fourNodes(), preemption: 'victims on zone-a-1 are being deleted', message: SUMMARY, nominatedNode: 'zone-a-1' };
  assert.match(explainPending(pendingPod(a), { now: NOW }).stdout, /^Nominated Node:\s+zone-a-1 \(the pod waits there for its preemption victims to go\)$/m);
  const status: Pod['status'] = { phase: 'Pending', nominatedNodeName: 'zone-a-0' };
  const out = explainPending(pendingPod(a, { status }), { now: NOW }).stdout;
  assert.match(out, /^Nominated Node:\s+zone-a-0 /m);
  assert.match(out, /^Status:\s+Pending, PodScheduled condition not set$/m);
  assert.match(out, /^FailedScheduling:\s+0\/4 nodes are available: .*unschedulable\.$/m, 'a message without a preemption part is printed whole');
});

test('a pod the scheduler is done with gets one line and exit 0', () => {
  const bound = pendingPod(fourNodes(), { spec: { containers: [], nodeName: 'zone-a-3' }, status: { phase: 'Running' } });
  assert.deepEqual(explainPending(bound, { now: NOW }), { code: 0, stdout: 'pod default/big is bound to node zone-a-3\n', stderr: '' });
  const failed = pendingPod(undefined, { status: { phase: 'Failed', reason: 'DeadlineExceeded' } });
  assert.equal(explainPending(failed, { now: NOW }).stdout, 'pod default/big is Failed (DeadlineExceeded) and will not be scheduled\n');
  const pod = pendingPod(fourNodes());
  const deleting: Pod = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-12-07T06:09:00Z' } };
  assert.equal(explainPending(deleting, { now: NOW }).stdout, 'pod default/big is being deleted; the scheduler no longer places it\n');
});

test('a gated pod without an attempt is explained by its gates', () => {
  const gated = pendingPod(undefined, { spec: { containers: [], schedulingGates: [{ name: 'example.com/quota' }] }, status: { phase: 'Pending' } });
  const e = explainPending(gated, { now: NOW });
  assert.equal(e.code, 0);
  assert.equal(e.stdout, 'pod default/big is waiting for its scheduling gates to be removed (spec.schedulingGates: example.com/quota); the scheduler does not try it until then\n');
});

test('no attempt recorded: exit 1 and a message saying why there may be none', () => {
  const untried = explainPending(pendingPod(undefined, { status: { phase: 'Pending' } }), { now: NOW });
  assert.equal(untried.code, 1);
  assert.equal(untried.stdout, '');
  assert.equal(
    untried.stderr,
    'error: no scheduling attempt is recorded for pod default/big (annotation scheduler.coxswain.io/last-attempt), created 2m ago; the scheduler "default-scheduler" has not tried to place it yet, or is not running\n',
  );
  const other = explainPending(pendingPod(undefined, { spec: { containers: [], schedulerName: 'my-scheduler' }, status: { phase: 'Pending' } }), { now: NOW });
  assert.match(other.stderr, /the scheduler "my-scheduler" has not tried/);
  const old = explainPending(pendingPod(undefined), { now: NOW });
  assert.equal(old.code, 1);
  assert.match(old.stderr, /; the scheduler did not record per-node reasons; its PodScheduled condition says: 0\/4 nodes are available: 1 Insufficient cpu,/);
  const garbled = explainPending(pendingPod('{"v":2}'), { now: NOW });
  assert.equal(garbled.code, 1);
  assert.match(garbled.stderr, /the annotation is there but not in a format this coxctl reads/);
});

test('describe: the Scheduling section groups nodes by reason; nothing for a bound pod', () => {
  const s = schedulingSection(pendingPod(fourNodes()), NOW);
  assert.deepEqual(s?.fields, [
    ['Last Attempt', 'on 4 nodes, same result since 5s ago (2026-12-07T06:09:55Z)'],
    ['Preemption', PREEMPTION],
  ]);
  assert.deepEqual(s?.rows, groupedRows(fourNodes()));
  assert.deepEqual(
    s?.rows?.map((r) => r[1]),
    ['NodeAffinity', 'NodeResourcesFit', 'NodeUnschedulable', 'TaintToleration'],
    'equal groups ordered by plugin',
  );
  assert.deepEqual(schedulingSection(pendingPod(undefined, { status: { phase: 'Pending' } }), NOW)?.fields, [
    ['Last Attempt', 'none recorded (the scheduler has not tried this pod yet, or is not running)'],
  ]);
  assert.equal(schedulingSection(pendingPod(fourNodes(), { spec: { containers: [], nodeName: 'x' } }), NOW), undefined);
});
