import type Docker from 'dockerode';
import {
  fromLabels,
  LABEL_POD_IP,
  LABEL_TERMINATION_MESSAGE_FILE,
  LABEL_TERMINATION_MESSAGE_POLICY,
  type RuntimeContainer,
  type RuntimeContainerState,
} from '../runtime';

/** `docker inspect` output as the runtime's view of a container, pure: its labels say whose it is. */

/** Docker's zero time, used for "never started/finished". */
const ZERO_TIME = '0001-01-01T00:00:00Z';

function mapState(s: string | undefined): RuntimeContainerState {
  switch (s) {
    case 'running':
    case 'paused':
    case 'restarting':
      return 'running';
    case 'created':
      return 'created';
    case 'exited':
    case 'dead':
    case 'removing':
      return 'exited';
    default:
      return 'unknown';
  }
}

function time(t: string | undefined): string | undefined {
  return t && !t.startsWith('0001-01-01') && t !== ZERO_TIME ? t : undefined;
}

/**
 * A sandbox's pod IP: the label of the kubelet that wired it (pod-network.ts), or for
 * one Docker wired (a Coxswain version before that) its address in the network settings.
 */
export function sandboxIP(labels: Record<string, string> | undefined, networks: Record<string, { IPAddress?: string } | undefined> | undefined): string | undefined {
  return labels?.[LABEL_POD_IP] || Object.values(networks ?? {}).find((n) => n?.IPAddress)?.IPAddress || undefined;
}

/** Converts `docker inspect` output into the runtime's view of a container. */
export function fromInspect(info: Docker.ContainerInspectInfo): RuntimeContainer {
  const labels = info.Config?.Labels ?? {};
  const state = mapState(info.State?.Status);
  const ip = sandboxIP(labels, info.NetworkSettings?.Networks);
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    ...fromLabels(labels),
    image: info.Config?.Image ?? '',
    imageId: info.Image ?? '',
    state,
    createdAt: info.Created,
    startedAt: time(info.State?.StartedAt),
    finishedAt: state === 'running' ? undefined : time(info.State?.FinishedAt),
    exitCode: state === 'running' || state === 'created' ? undefined : info.State?.ExitCode,
    oomKilled: info.State?.OOMKilled || undefined,
    error: info.State?.Error || undefined,
    terminationMessageFile: labels[LABEL_TERMINATION_MESSAGE_FILE] || undefined,
    terminationMessagePolicy: labels[LABEL_TERMINATION_MESSAGE_POLICY] || undefined,
    ip: state === 'running' ? ip : undefined,
    pid: state === 'running' && info.State?.Pid ? info.State.Pid : undefined,
    hostNetwork: info.HostConfig?.NetworkMode === 'host' || undefined,
  };
}
