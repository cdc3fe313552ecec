import type { ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1';
import { formatIPv4, inCidr, parseCidr, parseIPv4, type Cidr } from '../../lib/ipv4';
import { rfc3339 } from '../../lib/time';

/**
 * Pod IPs of one hollow node: host addresses .2 to .254 of a /24 (the node's
 * podCIDR when the controllers assigned one, else a made-up block), lowest
 * free first, given back when the pod is gone.
 */
export class PodIPs {
  private readonly cidr: Cidr;
  private readonly used = new Set<number>();

  constructor(cidr: string) {
    const c = parseCidr(cidr);
    if (!c) throw new Error(`not an IPv4 CIDR: ${cidr}`);
    this.cidr = c;
  }

  /** A free address, or undefined when all are taken. */
  allocate(): string | undefined {
    for (let host = 2; host < 255; host++) {
      if (!this.used.has(host)) {
        this.used.add(host);
        return formatIPv4((this.cidr.base + host) >>> 0);
      }
    }
    return undefined;
  }

  /** Marks an address taken (a pod already running when the process started); false if it is not in this block. */
  claim(ip: string): boolean {
    const n = parseIPv4(ip);
    if (n === undefined || !inCidr(ip, this.cidr)) return false;
    this.used.add((n - this.cidr.base) >>> 0);
    return true;
  }

  release(ip: string): void {
    const n = parseIPv4(ip);
    if (n !== undefined && inCidr(ip, this.cidr)) this.used.delete((n - this.cidr.base) >>> 0);
  }

  get size(): number {
    return this.used.size;
  }
}

/** The made-up pod block of the hollow node with this index: 10.(128 + index/256).(index%256).0/24, outside the cluster CIDR 10.244.0.0/16. */
export function fallbackPodCIDR(index: number): string {
  return `10.${128 + Math.floor(index / 256) % 112}.${index % 256}.0/24`;
}

/** What a hollow kubelet does with a pod it sees on one of its nodes. */
export type PodAction =
  | { kind: 'none' }
  /** Report it Running and Ready (first sight, or its status is not ours yet). */
  | { kind: 'run' }
  /** It is being deleted: report its containers finished, then delete it for good (grace 0). */
  | { kind: 'finish' };

/** Decides from the API's copy alone (level-triggered): a restarted process picks up where it was. */
export function podAction(pod: Pod): PodAction {
  if (pod.metadata?.deletionTimestamp) return { kind: 'finish' };
  const s = pod.status;
  if (s?.phase === 'Succeeded' || s?.phase === 'Failed') return { kind: 'none' };
  const ready = s?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  if (s?.phase === 'Running' && ready && s.podIP) return { kind: 'none' };
  return { kind: 'run' };
}

function cond(type: string, now: string, old: PodCondition[] | undefined, status: 'True' | 'False' = 'True', reason?: string): PodCondition {
  const prev = old?.find((c) => c.type === type);
  return {
    type,
    status,
    lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now,
    ...(reason ? { reason } : {}),
  };
}

function containerID(pod: Pod, name: string): string {
  return `hollow://${pod.metadata?.uid ?? ''}/${name}`;
}

/** The status a kubelet reports once every container started: Running, Ready, with the pod IP (the host IP for hostNetwork pods). */
export function runningStatus(pod: Pod, podIP: string, hostIP: string, now: number): PodStatus {
  const t = rfc3339(now);
  const old = pod.status;
  const ip = pod.spec?.hostNetwork ? hostIP : podIP;
  const made = (c: { name: string; image?: string }, started: boolean, state: ContainerStatus['state']): ContainerStatus => ({
    name: c.name,
    image: c.image ?? '',
    imageID: `hollow://${c.image ?? ''}`,
    containerID: containerID(pod, c.name),
    ready: true,
    started,
    restartCount: 0,
    state,
  });
  const containerStatuses = (pod.spec?.containers ?? []).map((c) => made(c, true, { running: { startedAt: t } }));
  const status: PodStatus = {
    phase: 'Running',
    conditions: [
      cond('PodReadyToStartContainers', t, old?.conditions),
      cond('Initialized', t, old?.conditions),
      cond('Ready', t, old?.conditions),
      cond('ContainersReady', t, old?.conditions),
      cond('PodScheduled', t, old?.conditions),
    ],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime: old?.startTime ?? t,
    containerStatuses,
  };
  const inits = pod.spec?.initContainers ?? [];
  if (inits.length > 0) {
    status.initContainerStatuses = inits.map((c) => made(c, false, { terminated: { exitCode: 0, reason: 'Completed', startedAt: t, finishedAt: t } }));
  }
  return status;
}

/**
 * The last status of a deleted pod: every container terminated with exit
 * code 0 ("Completed"), phase Succeeded, not Ready, as a kubelet reports a pod
 * it stopped before deleting it.
 */
export function finishedStatus(pod: Pod, now: number): PodStatus {
  const t = rfc3339(now);
  const old = pod.status;
  const prev = new Map((old?.containerStatuses ?? []).map((c) => [c.name, c]));
  const containerStatuses: ContainerStatus[] = (pod.spec?.containers ?? []).map((c) => {
    const p = prev.get(c.name);
    return {
      name: c.name,
      image: c.image ?? '',
      imageID: p?.imageID ?? `hollow://${c.image ?? ''}`,
      containerID: p?.containerID ?? containerID(pod, c.name),
      ready: false,
      started: false,
      restartCount: p?.restartCount ?? 0,
      state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: p?.state?.running?.startedAt ?? t, finishedAt: t, containerID: p?.containerID ?? containerID(pod, c.name) } },
    };
  });
  const ownedTypes = new Set(['PodReadyToStartContainers', 'Ready', 'ContainersReady']);
  const others = (old?.conditions ?? []).filter((c) => !ownedTypes.has(c.type));
  return {
    phase: 'Succeeded',
    conditions: [
      cond('PodReadyToStartContainers', t, old?.conditions, 'False'),
      cond('Ready', t, old?.conditions, 'False', 'PodCompleted'),
      cond('ContainersReady', t, old?.conditions, 'False', 'PodCompleted'),
      ...others,
    ],
    containerStatuses,
  };
}
