import type Docker from 'dockerode';
import type { ContainerSpec, SandboxSpec } from '../runtime';

/**
 * The runtime's sandbox and container specs as Docker create options, pure. A sandbox
 * is a pause container without networking (the kubelet wires the pod network itself,
 * pod-network.ts) whose IPC namespace the pod's containers share; app containers join
 * its network and IPC namespaces.
 */

export function sandboxCreateOptions(spec: SandboxSpec): Docker.ContainerCreateOptions {
  return {
    name: spec.name,
    Image: spec.image,
    Hostname: spec.hostname,
    Labels: spec.labels,
    HostConfig: {
      NetworkMode: spec.hostNetwork ? 'host' : 'none',
      IpcMode: 'shareable',
      RestartPolicy: { Name: 'no' },
      SecurityOpt: spec.securityOpt?.length ? spec.securityOpt : undefined,
    },
  };
}

export function containerCreateOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const sec = spec.security ?? {};
  const res = spec.resources ?? {};
  return {
    name: spec.name,
    Image: spec.image,
    Labels: spec.labels,
    Entrypoint: spec.entrypoint,
    Cmd: spec.cmd,
    Env: spec.env,
    WorkingDir: spec.workingDir,
    Tty: spec.tty ?? false,
    OpenStdin: spec.stdin ?? false,
    User: sec.user,
    HostConfig: {
      NetworkMode: spec.hostNetwork ? 'host' : `container:${spec.sandboxId}`,
      IpcMode: `container:${spec.sandboxId}`,
      RestartPolicy: { Name: 'no' },
      Mounts: (spec.mounts ?? []).map((m) => ({
        Type: m.type,
        Source: m.source,
        Target: m.target,
        ReadOnly: m.readOnly,
        ...(m.type === 'volume' ? { VolumeOptions: { Labels: m.volumeLabels ?? {}, DriverConfig: { Name: 'local', Options: m.volumeOptions ?? {} } } } : {}),
      })) as Docker.MountSettings[],
      CpuShares: res.cpuShares,
      CpuQuota: res.cpuQuota,
      CpuPeriod: res.cpuPeriod,
      Memory: res.memoryBytes,
      // No swap beyond the limit, so a hog is OOM-killed instead of swapping.
      MemorySwap: res.memoryBytes,
      GroupAdd: sec.groupAdd,
      ReadonlyRootfs: sec.readOnlyRootfs ?? false,
      Privileged: sec.privileged ?? false,
      CapAdd: sec.capAdd,
      CapDrop: sec.capDrop,
      SecurityOpt: sec.securityOpt,
    },
  };
}
