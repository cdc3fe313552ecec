import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import { createLogger } from '../lib/log';
import type { PodSources } from './pod-sources';
import type { ContainerRuntime } from './runtime';
import { VolumeManager } from './volumes';

/** The kubelet's side of a PersistentVolumeClaim volume, on a real directory: which claims it mounts and how a local-path directory is made. */
test('persistentVolumeClaim volumes: only a Bound claim with a matching volume is mounted; local-path directories are created 0777', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'coxswain-claims-'));
  try {
    const claims = new Map<string, PersistentVolumeClaim>();
    const volumes = new Map<string, PersistentVolume>();
    const sources: PodSources = {
      getConfigMap: async () => undefined,
      getSecret: async () => undefined,
      getPersistentVolumeClaim: async (ns, n) => claims.get(`${ns}/${n}`),
      getPersistentVolume: async (n) => volumes.get(n),
      getServices: async () => [],
      serviceAccountToken: async () => undefined,
    };
    const vm = new VolumeManager({ rootDir: path.join(root, 'kubelet'), tmpfs: false, nodeName: 'n1', sources, runtime: {} as ContainerRuntime, log: createLogger('test') });
    const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'c' } }] } };
    const setup = () => vm.setup(pod, { configMaps: new Map(), secrets: new Map() } as never, { podIP: '', hostIP: '', nodeName: 'n1' });
    const dir = path.join(root, 'storage', 'pvc-1');
    const pv: PersistentVolume = {
      metadata: { name: 'pvc-1', annotations: { 'pv.kubernetes.io/provisioned-by': 'coxswain.io/local-path' } },
      spec: { hostPath: { path: dir, type: 'DirectoryOrCreate' }, claimRef: { namespace: 'ns', name: 'c', uid: 'cu' } },
    };
    const claim = (phase: string, volumeName?: string): PersistentVolumeClaim => ({ metadata: { name: 'c', namespace: 'ns', uid: 'cu' }, spec: { volumeName }, status: { phase } });

    await assert.rejects(setup(), /persistentvolumeclaim "c" not found/);
    claims.set('ns/c', claim('Pending'));
    await assert.rejects(setup(), /persistentvolumeclaim "c" is not bound to a volume yet \(phase Pending\)/);
    claims.set('ns/c', claim('Bound', 'pvc-1'));
    await assert.rejects(setup(), /persistentvolume "pvc-1" \(bound to claim "c"\) not found/);
    volumes.set('pvc-1', { ...pv, spec: { ...pv.spec, claimRef: { namespace: 'ns', name: 'other' } } });
    await assert.rejects(setup(), /persistentvolume "pvc-1" is not bound to claim "c"/);
    volumes.set('pvc-1', pv);
    const out = await setup();
    assert.deepEqual(out.get('data'), { hostPath: dir, readOnly: false });
    assert.equal((await stat(dir)).mode & 0o777, 0o777);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
