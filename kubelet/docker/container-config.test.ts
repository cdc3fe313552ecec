import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerCreateOptions, sandboxCreateOptions } from './container-config';

test('a sandbox has no network of Docker\'s (or the host\'s) and a shareable IPC namespace', () => {
  const o = sandboxCreateOptions({ name: 'k8s_POD_p', image: 'pause', labels: { a: 'b' }, hostname: 'p', hostNetwork: false, securityOpt: [] });
  assert.equal(o.HostConfig?.NetworkMode, 'none');
  assert.equal(o.HostConfig?.IpcMode, 'shareable');
  assert.equal(o.HostConfig?.SecurityOpt, undefined);
  assert.equal(sandboxCreateOptions({ name: 'n', image: 'pause', labels: {}, hostNetwork: true, securityOpt: ['seccomp=unconfined'] }).HostConfig?.NetworkMode, 'host');
});

test('a container joins its sandbox, with its cgroup limits, security settings and mounts', () => {
  const o = containerCreateOptions({
    name: 'k8s_c_p',
    image: 'busybox',
    labels: {},
    env: ['A=1'],
    sandboxId: 'sb1',
    hostNetwork: false,
    mounts: [
      { type: 'bind', source: '/h', target: '/c', readOnly: true },
      { type: 'volume', source: 'v', target: '/m', readOnly: false, volumeOptions: { type: 'tmpfs', device: 'tmpfs' } },
    ],
    resources: { cpuShares: 102, cpuQuota: 50_000, cpuPeriod: 100_000, memoryBytes: 1 << 20 },
    security: { user: '5:6', capDrop: ['ALL'], readOnlyRootfs: true },
  });
  assert.equal(o.HostConfig?.NetworkMode, 'container:sb1');
  assert.equal(o.HostConfig?.IpcMode, 'container:sb1');
  assert.equal(o.User, '5:6');
  assert.equal(o.HostConfig?.Memory, 1 << 20);
  assert.equal(o.HostConfig?.MemorySwap, 1 << 20, 'no swap beyond the memory limit');
  assert.deepEqual(o.HostConfig?.CapDrop, ['ALL']);
  assert.equal(o.HostConfig?.ReadonlyRootfs, true);
  assert.deepEqual(o.HostConfig?.Mounts?.[0], { Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true });
  assert.deepEqual(o.HostConfig?.Mounts?.[1].VolumeOptions?.DriverConfig, { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs' } });
});
