import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomSuffix } from '../lib/names';
import { TOKEN_MOUNT_PATH, mountServiceAccount } from './serviceaccount-admission';

const pod = (spec: Record<string, unknown> = {}) => ({
  metadata: { name: 'p' },
  spec: { containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox', volumeMounts: [{ name: 'own', mountPath: TOKEN_MOUNT_PATH }] }], initContainers: [{ name: 'init', image: 'busybox' }], ...spec },
});

test('mountServiceAccount adds Kubernetes\' projected volume and mounts it where nothing is mounted yet', () => {
  const p: any = pod();
  mountServiceAccount(p, {}, 'x2b4z');
  assert.equal(p.spec.volumes.length, 1);
  const v = p.spec.volumes[0];
  assert.equal(v.name, 'kube-api-access-x2b4z');
  assert.equal(v.projected.defaultMode, 0o644);
  assert.deepEqual(v.projected.sources.map((s: any) => Object.keys(s)[0]), ['serviceAccountToken', 'configMap', 'downwardAPI']);
  assert.equal(v.projected.sources[0].serviceAccountToken.expirationSeconds, 3607);
  assert.deepEqual(p.spec.containers[0].volumeMounts, [{ name: 'kube-api-access-x2b4z', readOnly: true, mountPath: TOKEN_MOUNT_PATH }]);
  assert.deepEqual(p.spec.containers[1].volumeMounts, [{ name: 'own', mountPath: TOKEN_MOUNT_PATH }], 'a container with its own mount there keeps it');
  assert.equal(p.spec.initContainers[0].volumeMounts[0].name, 'kube-api-access-x2b4z');
});

test('automountServiceAccountToken: the pod decides, else the ServiceAccount; no signing key mounts nothing', () => {
  const off: any = pod({ automountServiceAccountToken: false });
  mountServiceAccount(off, { automountServiceAccountToken: true }, 'aaaaa');
  assert.equal(off.spec.volumes, undefined);
  const saOff: any = pod();
  mountServiceAccount(saOff, { automountServiceAccountToken: false }, 'aaaaa');
  assert.equal(saOff.spec.volumes, undefined);
  const podOn: any = pod({ automountServiceAccountToken: true });
  mountServiceAccount(podOn, { automountServiceAccountToken: false }, 'aaaaa');
  assert.equal(podOn.spec.volumes.length, 1, 'the pod overrides the account');
  const noKey: any = pod();
  mountServiceAccount(noKey, {}, 'aaaaa', false);
  assert.equal(noKey.spec.volumes, undefined);
});

test('a volume name already taken gets another one; suffixes use Kubernetes\' alphabet', () => {
  const p: any = pod({ volumes: [{ name: 'kube-api-access-abcde', emptyDir: {} }] });
  mountServiceAccount(p, {}, 'abcde');
  assert.deepEqual(p.spec.volumes.map((v: any) => v.name), ['kube-api-access-abcde', 'kube-api-access-abcde0']);
  for (let i = 0; i < 50; i++) assert.match(randomSuffix(), /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
});
