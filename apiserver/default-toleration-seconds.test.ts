import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Toleration } from 'kubernetes-types/core/v1';
import { addDefaultTolerations } from './default-toleration-seconds';

const pod = (tolerations?: Toleration[]): Pod => ({ metadata: { name: 'p' }, spec: { containers: [], tolerations } });

test('a pod without tolerations gets both, with the configured seconds', () => {
  const p = pod();
  addDefaultTolerations(p, 2, 3);
  assert.deepEqual(p.spec?.tolerations, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 3 },
  ]);
});

test('tolerations the pod already has are kept and not doubled', () => {
  const own = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' };
  const p = pod([own]);
  addDefaultTolerations(p, 2, 2);
  assert.deepEqual(p.spec?.tolerations?.map((t) => `${t.key}:${t.tolerationSeconds ?? 'forever'}`), ['node.kubernetes.io/unreachable:forever', 'node.kubernetes.io/not-ready:2']);
  const all = pod([{ operator: 'Exists' }]);
  addDefaultTolerations(all, 2, 2);
  assert.equal(all.spec?.tolerations?.length, 1, 'a wildcard toleration covers both');
  const noSchedule = pod([{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }]);
  addDefaultTolerations(noSchedule, 2, 2);
  assert.equal(noSchedule.spec?.tolerations?.length, 3, 'a NoSchedule toleration is not a NoExecute one');
});
