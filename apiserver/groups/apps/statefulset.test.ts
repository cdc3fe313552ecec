import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatefulSet } from 'kubernetes-types/apps/v1';
import { validateStatefulSet } from './statefulset';

const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);

function sts(spec: Record<string, unknown> = {}): StatefulSet {
  return {
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      ...spec,
    },
  } as unknown as StatefulSet;
}

test('statefulsets: Kubernetes validation, table', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['a minimal set without serviceName is valid (as upstream)', {}, []],
    ['selector must match the template', { selector: { matchLabels: { app: 'db' } } }, ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`']],
    ['podManagementPolicy', { podManagementPolicy: 'Random' }, ["spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"]],
    ['OnDelete with rollingUpdate', { updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }, ['spec.updateStrategy.rollingUpdate: Invalid value: {"partition":1}: only allowed for updateStrategy \'RollingUpdate\'']],
    ['negative partition', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } }, ['spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0']],
    ['maxUnavailable 0', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } } }, ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0']],
    ['maxUnavailable 150%', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '150%' } } }, ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%']],
    ['negative minReadySeconds', { minReadySeconds: -1 }, ['spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0']],
    ['retention policy values', { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep' } }, ['spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"']],
    ['claim templates need distinct names', { volumeClaimTemplates: [{ metadata: { name: 'd' } }, { metadata: { name: 'd' } }, { metadata: {} }] }, ['spec.volumeClaimTemplates[1].metadata.name: Duplicate value: "d"', 'spec.volumeClaimTemplates[2].metadata.name: Required value']],
    ['negative ordinals.start', { ordinals: { start: -2 } }, ['spec.ordinals.start: Invalid value: -2: must be greater than or equal to 0']],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(fields(validateStatefulSet(sts(spec))), want, name);
  const restart = sts();
  (restart.spec!.template as { spec: unknown }).spec = { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'OnFailure', activeDeadlineSeconds: 5 };
  assert.deepEqual(fields(validateStatefulSet(restart)), [
    'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported',
  ]);
});

test('statefulsets: only some spec fields may change', () => {
  const a = sts({ serviceName: 'a' });
  assert.deepEqual(fields(validateStatefulSet(sts({ serviceName: 'a', replicas: 5 }), a)), []);
  assert.equal(validateStatefulSet(sts({ serviceName: 'b' }), a)[0]?.field, 'spec');
});
