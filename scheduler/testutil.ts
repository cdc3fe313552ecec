import type { Node, Pod } from 'kubernetes-types/core/v1';
import { CycleState, nodeInfo, type FilterPlugin, type NodeInfo, type ScorePlugin, type Snapshot } from './framework';
import { snapshotOf } from './snapshot';

/** Test fixtures shared by the scheduler's table tests. */
export function mkNode(name: string, o: { cpu?: string; memory?: string; pods?: string; ready?: string; unschedulable?: boolean; labels?: Record<string, string>; taints?: NonNullable<Node['spec']>['taints'] } = {}): Node {
  return {
    metadata: { name, labels: o.labels ?? {} },
    spec: { unschedulable: o.unschedulable, taints: o.taints },
    status: {
      allocatable: { cpu: o.cpu ?? '2', memory: o.memory ?? '4Gi', pods: o.pods ?? '110' },
      conditions: [{ type: 'Ready', status: o.ready ?? 'True' }],
    },
  };
}

export function mkPod(name: string, o: { cpu?: string; memory?: string; node?: string; phase?: string; nodeSelector?: Record<string, string>; tolerations?: NonNullable<Pod['spec']>['tolerations'] } = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { nodeName: o.node, nodeSelector: o.nodeSelector, tolerations: o.tolerations, containers: [{ name: 'c', image: 'x', resources: Object.keys(requests).length ? { requests } : undefined }] },
    status: { phase: o.phase ?? 'Pending' },
  };
}

export function mkInfo(node: Node, pods: Pod[] = []): NodeInfo {
  return nodeInfo(node, pods);
}

/** A filter's reasons for one node (undefined when it fits), with a fresh CycleState. */
export function reasonsOf(plugin: FilterPlugin, pod: Pod, info: NodeInfo): string[] | undefined {
  return plugin.filter(pod, info, new CycleState())?.reasons;
}

/** A Snapshot of `infos` (namespace labels from `namespaces`, if given). */
export function mkSnapshot(infos: NodeInfo[], namespaces: Record<string, Record<string, string>> = {}): Snapshot {
  return snapshotOf(infos, (ns) => namespaces[ns]);
}

/** A score plugin's final scores for `infos` (PreScore, Score, NormalizeScore), before its weight. */
export function scoresOf(plugin: ScorePlugin, pod: Pod, infos: NodeInfo[], snapshot: Snapshot = mkSnapshot(infos)): number[] {
  const state = new CycleState();
  plugin.preScore?.(pod, infos, snapshot, state);
  const raw = infos.map((n) => plugin.score(pod, n, state));
  plugin.normalize?.(raw, pod, infos, state);
  return raw;
}
