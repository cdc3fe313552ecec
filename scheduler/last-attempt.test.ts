import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLastAttempt, encodeLastAttempt, ANN_LAST_ATTEMPT } from '../lib/scheduling-diagnosis';
import { failedSchedulingMessage, lastAttemptOf, rejectingPlugins, sameAttempt } from './last-attempt';
import { schedulePod } from './schedule';
import { defaultProfile } from './plugins/registry';
import { mkInfo, mkNode, mkPod, mkSnapshot } from './testutil';

const nodes = [mkInfo(mkNode('a', { cpu: '1' })), mkInfo(mkNode('b', { cpu: '1' })), mkInfo(mkNode('c', { unschedulable: true }))];

function failure() {
  const r = schedulePod(mkPod('p', { cpu: '2' }), mkSnapshot(nodes), defaultProfile());
  assert.ok(!r.ok);
  return r;
}

test('the record groups nodes by plugin and reason, and round-trips through the annotation', () => {
  const a = lastAttemptOf(failure(), 3, '2026-12-07T06:00:00Z');
  assert.equal(a.message, '0/3 nodes are available: 2 Insufficient cpu, 1 node(s) were unschedulable.');
  assert.deepEqual(a.rejected.map((g) => [g.plugin, g.nodes.join(',')]), [['NodeResourcesFit', 'a,b'], ['NodeUnschedulable', 'c']]);
  assert.equal(a.preemption, undefined);
  assert.deepEqual(decodeLastAttempt({ [ANN_LAST_ATTEMPT]: encodeLastAttempt(a) }), a);
  assert.deepEqual([...rejectingPlugins(failure())].sort(), ['NodeResourcesFit', 'NodeUnschedulable']);
});

test('preemption is appended as kube-scheduler words it, and recorded', () => {
  const post = { message: '0/3 nodes are available: 3 No preemption victims found for incoming pod.', nominatedNode: 'b' };
  assert.equal(failedSchedulingMessage(failure(), post), '0/3 nodes are available: 2 Insufficient cpu, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.');
  const a = lastAttemptOf(failure(), 3, 't', post);
  assert.deepEqual([a.preemption, a.nominatedNode], [post.message, 'b']);
});

test('a retry that changes only the time is the same attempt', () => {
  const a = lastAttemptOf(failure(), 3, '2026-12-07T06:00:00Z');
  assert.equal(sameAttempt(a, lastAttemptOf(failure(), 3, '2026-12-07T06:00:09Z')), true);
  assert.equal(sameAttempt(a, lastAttemptOf(failure(), 4, '2026-12-07T06:00:09Z')), false);
  assert.equal(sameAttempt(undefined, a), false);
});
