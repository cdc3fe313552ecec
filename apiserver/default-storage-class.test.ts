import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { setDefaultClass } from './default-storage-class';

const sc = (name: string, isDefault: boolean, created = '2026-01-01T00:00:00Z'): StorageClass => ({
  metadata: { name, creationTimestamp: created, annotations: isDefault ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : undefined }, provisioner: 'p',
});

test('DefaultStorageClass: an unset class becomes the default one; "" and named classes stay, table', () => {
  const cases: [string, string | undefined, StorageClass[], string | undefined][] = [
    ['unset, one default', undefined, [sc('a', false), sc('local-path', true)], 'local-path'],
    ['unset, no default', undefined, [sc('a', false)], undefined],
    ['unset, two defaults: the newest', undefined, [sc('old', true, '2026-01-01T00:00:00Z'), sc('new', true, '2026-02-01T00:00:00Z')], 'new'],
    ['explicit "" (no class) is kept', '', [sc('local-path', true)], ''],
    ['a named class is kept, even an unknown one', 'gold', [sc('local-path', true)], 'gold'],
  ];
  for (const [name, cls, classes, want] of cases) {
    const c: PersistentVolumeClaim = { metadata: { name: 'c' }, spec: { storageClassName: cls } };
    setDefaultClass(c, classes);
    assert.equal(c.spec?.storageClassName, want, name);
  }
});
