import type { Node, NodeCondition, NodeStatus } from 'kubernetes-types/core/v1';
import { formatIPv4, inCidr, parseCidr } from '../lib/ipv4';
import { rfc3339 } from '../lib/time';

/** Pure construction of the Node object and its status from facts gathered at the edges. */

export const KUBELET_VERSION = 'v1.32.0-coxswain';

export interface NodeFacts {
  name: string;
  ip: string;
  hostname: string;
  cpus: number;
  memoryBytes: number;
  /** Root filesystem size in bytes (0 when unknown). */
  storageBytes: number;
  maxPods: number;
  runtimeVersion: string;
  osImage: string;
  kernelVersion: string;
  /** Node.js `process.arch`. */
  arch: string;
  /** Port of the kubelet API (gRPC, mutual TLS), published in daemonEndpoints (default 10250). */
  kubeletPort?: number;
}

/** Node.js architecture names → GOARCH, which Kubernetes labels use. */
export function goArch(nodeArch: string): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[nodeArch] ?? nodeArch;
}

/** Bytes as a binary-suffixed Kubernetes quantity in Ki (e.g. "24683800Ki"). */
export function kiQuantity(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

export function nodeLabels(f: NodeFacts): Record<string, string> {
  return {
    'kubernetes.io/hostname': f.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': goArch(f.arch),
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': goArch(f.arch),
  };
}

const CONDITIONS: { type: string; status: 'True' | 'False'; reason: string; message: string }[] = [
  { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
];

/** A condition without its times, as a part of the kubelet other than the heartbeat decides it (NetworkUnavailable). */
export interface ConditionSpec {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/**
 * The node status at `now` (epoch ms). Conditions keep their lastTransitionTime
 * from `old` while their status is unchanged; lastHeartbeatTime is always `now`.
 * `extra` conditions (NetworkUnavailable) come first, as Kubernetes lists them.
 */
export function buildNodeStatus(f: NodeFacts, now: number, old?: NodeStatus, notReady?: { reason: string; message: string }, extra: readonly ConditionSpec[] = []): NodeStatus {
  const capacity: Record<string, string> = {
    cpu: String(f.cpus),
    memory: kiQuantity(f.memoryBytes),
    pods: String(f.maxPods),
    'ephemeral-storage': kiQuantity(f.storageBytes),
  };
  const own: ConditionSpec[] = CONDITIONS.map((c) => (c.type === 'Ready' && notReady ? { ...c, status: 'False' as const, ...notReady } : c));
  const conditions: NodeCondition[] = [...extra, ...own].map((c) => {
    const prev = old?.conditions?.find((x) => x.type === c.type);
    return {
      ...c,
      lastHeartbeatTime: rfc3339(now),
      lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now),
    };
  });
  return {
    capacity,
    allocatable: { ...capacity },
    conditions,
    addresses: [
      { type: 'InternalIP', address: f.ip },
      { type: 'Hostname', address: f.hostname },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: f.kubeletPort ?? 10250 } },
    nodeInfo: {
      machineID: '',
      systemUUID: '',
      bootID: '',
      kernelVersion: f.kernelVersion,
      osImage: f.osImage,
      containerRuntimeVersion: f.runtimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: goArch(f.arch),
    },
  };
}

export function buildNode(f: NodeFacts, now: number): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: f.name, labels: nodeLabels(f) },
    spec: {},
    status: buildNodeStatus(f, now),
  };
}

/** The gateway of a pod CIDR: its network address + 1 ("10.244.3.0/24" → "10.244.3.1"). */
export function gatewayOf(cidr: string): string {
  const c = parseCidr(cidr);
  if (!c) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  return formatIPv4((c.base + 1) >>> 0);
}

export function inCIDR(ipAddr: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  return c !== undefined && inCidr(ipAddr, c);
}
