import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Taint, Toleration } from 'kubernetes-types/core/v1';
import { planEviction } from './eviction';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-01-01T00:00:00Z' };
const noSchedule: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' };
const pod = (...tolerations: Toleration[]): Pod => ({ metadata: { name: 'p' }, spec: { containers: [], tolerations } });
const tol = (seconds?: number, key = 'node.kubernetes.io/unreachable'): Toleration => ({ key, operator: 'Exists', effect: 'NoExecute', ...(seconds === undefined ? {} : { tolerationSeconds: seconds }) });

test('table: what the taint manager does with one pod', () => {
  const cases: [string, Pod, Taint[], number, string][] = [
    ['no taints', pod(), [], T0, 'keep'],
    ['NoSchedule only', pod(), [noSchedule], T0, 'keep'],
    ['untolerated NoExecute: now', pod(), [unreachable], T0, 'evict'],
    ['tolerated 2 s, 1 s in', pod(tol(2)), [unreachable], T0 + 1_000, `later ${T0 + 2_000}`],
    ['tolerated 2 s, 2 s in', pod(tol(2)), [unreachable], T0 + 2_000, 'evict'],
    ['tolerated forever', pod(tol()), [unreachable], T0 + 3_600_000, 'keep'],
    ['forever and 5 s: the limit wins', pod(tol(), tol(5)), [unreachable], T0, `later ${T0 + 5_000}`],
    ['two limits: the smaller', pod(tol(9), tol(3)), [unreachable], T0, `later ${T0 + 3_000}`],
    ['negative seconds: at once', pod(tol(-1)), [unreachable], T0, 'evict'],
    ['tolerates another key only', pod(tol(60, 'node.kubernetes.io/not-ready')), [unreachable], T0, 'evict'],
    ['wildcard toleration', pod({ operator: 'Exists' }), [unreachable], T0, 'keep'],
  ];
  for (const [name, p, taints, now, want] of cases) {
    const plan = planEviction(p, taints, now);
    const got = plan.kind === 'later' ? `later ${plan.atMs}` : plan.kind;
    assert.equal(got, want, name);
  }
});

test('a taint without timeAdded counts from when it was first seen', () => {
  const plan = planEviction(pod(tol(2)), [{ ...unreachable, timeAdded: undefined }], T0, () => T0 - 500);
  assert.deepEqual(plan.kind === 'later' && plan.atMs, T0 + 1_500);
});
