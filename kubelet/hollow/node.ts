import type { Node, NodeStatus } from 'kubernetes-types/core/v1';
import { formatIPv4 } from '../../lib/ipv4';
import { buildNodeStatus, nodeLabels, type NodeFacts } from '../node-status';
import { ZONE_LABEL, type HollowOptions } from './options';

/** The annotation that marks a Node as hollow (no containers run there). */
export const HOLLOW_ANNOTATION = 'coxswain.io/hollow-node';

/** `<prefix><index>`, index from 0. */
export function hollowNodeName(prefix: string, index: number): string {
  return `${prefix}${index}`;
}

/**
 * A made-up InternalIP for a hollow node: 127.x.y.z from a hash of its name
 * (never 127.0.0.0/16). A loopback address is what the real kubelets' host-gw
 * route sync leaves alone ("on this host"), so hollow nodes add no routes.
 */
export function hollowNodeIP(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const low = h & 0xffffff;
  const fixed = low >>> 16 < 1 ? low | 0x010000 : low;
  return formatIPv4(((127 << 24) | fixed) >>> 0);
}

function facts(name: string, arch: string): NodeFacts {
  return {
    name,
    ip: hollowNodeIP(name),
    hostname: name,
    cpus: 0,
    memoryBytes: 0,
    storageBytes: 0,
    maxPods: 0,
    runtimeVersion: 'hollow://0.1.0',
    osImage: 'Coxswain hollow node',
    kernelVersion: 'hollow',
    arch,
  };
}

/** The labels a kubelet sets (hostname, os, arch), then the --labels, and node `index`'s zone when --zones is given (round-robin). */
export function hollowNodeLabels(name: string, index: number, opts: Pick<HollowOptions, 'labels' | 'zones'>, arch: string): Record<string, string> {
  const zone: Record<string, string> = opts.zones.length > 0 ? { [ZONE_LABEL]: opts.zones[index % opts.zones.length]! } : {};
  return { ...nodeLabels(facts(name, arch)), ...opts.labels, ...zone };
}

/** The node status at `now`: the kubelet's conditions (Ready), with the asked-for capacity as allocatable too. */
export function hollowNodeStatus(name: string, opts: Pick<HollowOptions, 'cpu' | 'memory' | 'pods'>, arch: string, now: number, old?: NodeStatus): NodeStatus {
  const status = buildNodeStatus(facts(name, arch), now, old);
  const capacity = { cpu: opts.cpu, memory: opts.memory, pods: opts.pods, 'ephemeral-storage': '100Gi' };
  return { ...status, capacity, allocatable: { ...capacity } };
}

/** The Node a hollow kubelet registers. */
export function hollowNode(name: string, index: number, opts: Pick<HollowOptions, 'labels' | 'zones' | 'taints' | 'cpu' | 'memory' | 'pods'>, arch: string, now: number): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: hollowNodeLabels(name, index, opts, arch), annotations: { [HOLLOW_ANNOTATION]: 'true' } },
    spec: opts.taints.length > 0 ? { taints: opts.taints.map((t) => ({ ...t })) } : {},
    status: hollowNodeStatus(name, opts, arch, now),
  };
}
