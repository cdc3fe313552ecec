import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import { validatePersistentVolumeClaim } from './persistentvolumeclaim';

const claim = (spec: Partial<NonNullable<PersistentVolumeClaim['spec']>> = {}): PersistentVolumeClaim => ({
  metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem', storageClassName: 'local-path', ...spec },
});

test('PersistentVolumeClaim updates: volumeName is set once, other spec fields are immutable, table', () => {
  const cases: [string, PersistentVolumeClaim, PersistentVolumeClaim, boolean][] = [
    ['binding sets volumeName', claim(), claim({ volumeName: 'pv' }), true],
    ['a bound claim updated again (status, annotations)', claim({ volumeName: 'pv' }), claim({ volumeName: 'pv' }), true],
    ['volumeName changed', claim({ volumeName: 'pv' }), claim({ volumeName: 'other' }), false],
    ['volumeName removed', claim({ volumeName: 'pv' }), claim(), false],
    ['requests grow', claim({ volumeName: 'pv' }), claim({ volumeName: 'pv', resources: { requests: { storage: '2Gi' } } }), true],
    ['class changed', claim(), claim({ storageClassName: 'gold' }), false],
  ];
  for (const [name, old, next, ok] of cases) assert.equal(validatePersistentVolumeClaim(next, old).length === 0, ok, name);
});
