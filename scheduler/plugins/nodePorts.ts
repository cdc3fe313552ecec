import type { ContainerPort, Pod } from 'kubernetes-types/core/v1';
import { unschedulable, type FilterPlugin } from '../framework';

export const NODE_PORTS_REASON = "node(s) didn't have free ports for the requested pod ports";

/** A host port a pod holds: protocol (TCP when unset), hostIP ("0.0.0.0" when unset) and port. */
export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

const ANY_IP = '0.0.0.0';

/**
 * The host ports a pod holds: ports with a hostPort > 0 of its containers and of its sidecars
 * (init containers with restartPolicy Always, which run as long as the pod).
 */
export function podHostPorts(pod: Pod): HostPort[] {
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  const ports: ContainerPort[] = [...sidecars, ...(pod.spec?.containers ?? [])].flatMap((c) => c.ports ?? []);
  return ports.filter((p) => (p.hostPort ?? 0) > 0).map((p) => ({ ip: p.hostIP || ANY_IP, protocol: p.protocol || 'TCP', port: p.hostPort! }));
}

/**
 * Whether `want` collides with a port in `used`: same protocol and port, and the same host IP
 * or either of them bound to every address (0.0.0.0).
 */
export function portConflicts(want: HostPort, used: readonly HostPort[]): boolean {
  return used.some((u) => u.port === want.port && u.protocol === want.protocol && (u.ip === want.ip || u.ip === ANY_IP || want.ip === ANY_IP));
}

const STATE_KEY = 'PreFilterNodePorts';

/**
 * Kubernetes' NodePorts filter: a node fits when none of the pod's host ports is already held
 * there. Unschedulable (not unresolvable): evicting the pod that holds the port frees it.
 */
export const NodePorts: FilterPlugin = {
  name: 'NodePorts',
  preFilter(pod, _snapshot, state) {
    state.write(STATE_KEY, podHostPorts(pod));
    return undefined;
  },
  filter(pod, info, state) {
    const want = state.read<HostPort[]>(STATE_KEY) ?? podHostPorts(pod);
    if (want.length === 0) return undefined;
    const used = info.pods.flatMap(podHostPorts);
    return want.some((w) => portConflicts(w, used)) ? unschedulable(NODE_PORTS_REASON) : undefined;
  },
};
