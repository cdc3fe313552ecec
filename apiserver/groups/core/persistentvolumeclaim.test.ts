import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import { validatePersistentVolumeClaim } from './persistentvolumeclaim';

const claim = (spec: Partial<NonNullable<PersistentVolumeClaim['spec']>> = {}, status?: PersistentVolumeClaim['status']): PersistentVolumeClaim => ({
  metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem', storageClassName: 'local-path', ...spec }, status,
});
const bound = (storage: string, capacity = '1Gi') => claim({ volumeName: 'pv', resources: { requests: { storage } } }, { phase: 'Bound', capacity: { storage: capacity } });

test('PersistentVolumeClaim updates: volumeName is set once, a Bound claim\'s storage request may change but never below its capacity, the rest is immutable; table', () => {
  const immutable = 'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims';
  const shrink = 'spec.resources.requests.storage: Forbidden: field can not be less than status.capacity';
  const cases: [string, PersistentVolumeClaim, PersistentVolumeClaim, string[]][] = [
    ['binding sets volumeName', claim(), claim({ volumeName: 'pv' }), []],
    ['a bound claim updated again (status, annotations)', claim({ volumeName: 'pv' }), claim({ volumeName: 'pv' }), []],
    ['volumeName changed', claim({ volumeName: 'pv' }), claim({ volumeName: 'other' }), [immutable]],
    ['volumeName removed', claim({ volumeName: 'pv' }), claim(), [immutable]],
    ['a Bound claim\'s request grows', bound('1Gi'), bound('2Gi'), []],
    ['the same, written with another unit', bound('1Gi'), bound('1024Mi'), []],
    ['a Pending claim\'s request grows', claim(), claim({ resources: { requests: { storage: '2Gi' } } }), [immutable]],
    ['a Bound claim shrinks below its capacity', bound('1Gi'), bound('512Mi'), [shrink]],
    ['a Bound claim comes back down to its capacity', bound('2Gi'), bound('1Gi'), [shrink]],
    ['a Bound claim comes back down, still above its capacity (undoing an expansion)', bound('4Gi'), bound('2Gi'), []],
    ['a Bound claim\'s other requests are immutable', bound('1Gi'), { ...bound('1Gi'), spec: { ...bound('1Gi').spec, resources: { requests: { storage: '1Gi', other: '1' } } } }, [immutable]],
    ['class changed', claim(), claim({ storageClassName: 'gold' }), [immutable]],
    ['key order does not matter', claim(), { metadata: { name: 'c' }, spec: { storageClassName: 'local-path', volumeMode: 'Filesystem', resources: { requests: { storage: '1Gi' } }, accessModes: ['ReadWriteOnce'] } }, []],
  ];
  for (const [name, old, next, want] of cases) {
    assert.deepEqual(validatePersistentVolumeClaim(next, old).map((e) => `${e.field}: ${e.message}`), want, name);
  }
});
