import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { planPodGc } from './podgc';

function pod(name: string, o: { phase?: string; reason?: string; created?: string; node?: string; deleting?: boolean } = {}): Pod {
  return {
    metadata: { name, namespace: 'default', creationTimestamp: o.created ?? '2024-01-01T00:00:00Z', ...(o.deleting ? { deletionTimestamp: '2024-01-01T01:00:00Z' } : {}) },
    spec: { nodeName: o.node, containers: [] },
    status: { phase: o.phase ?? 'Running', reason: o.reason },
  };
}

test('planPodGc: terminated pods above the threshold, evicted then oldest first; unscheduled terminating pods', () => {
  const t = (m: number) => `2024-01-01T00:0${m}:00Z`;
  const pods = [
    pod('run', { phase: 'Running', node: 'n', created: t(0) }),
    pod('ok-old', { phase: 'Succeeded', node: 'n', created: t(1) }),
    pod('fail-mid', { phase: 'Failed', node: 'n', created: t(3) }),
    pod('ok-new', { phase: 'Succeeded', node: 'n', created: t(5) }),
    pod('evicted-new', { phase: 'Failed', reason: 'Evicted', node: 'n', created: t(6) }),
    pod('stuck', { phase: 'Pending', deleting: true }),
    pod('terminating-bound', { phase: 'Running', node: 'n', deleting: true }),
  ];
  const cases: [number, string[]][] = [
    [10, []],
    [4, []],
    [3, ['evicted-new']],
    [2, ['evicted-new', 'ok-old']],
    [1, ['evicted-new', 'ok-old', 'fail-mid']],
    [0, []],
  ];
  for (const [threshold, want] of cases) {
    const plan = planPodGc(pods, threshold);
    assert.deepEqual(plan.terminated.map((p) => p.metadata?.name), want, `threshold ${threshold}`);
    assert.deepEqual(plan.unscheduledTerminating.map((p) => p.metadata?.name), ['stuck']);
  }
});
