import type { Affinity, Pod, PodAffinityTerm, TopologySpreadConstraint } from 'kubernetes-types/core/v1';
import { CycleState, type FilterPlugin, type NodeInfo, type ScorePlugin, type Snapshot } from '../framework';
import { mkInfo, mkNode, mkSnapshot } from '../testutil';

/** Fixtures for the InterPodAffinity and PodTopologySpread table tests. */

export interface PodOpts {
  ns?: string;
  labels?: Record<string, string>;
  node?: string;
  affinity?: Affinity;
  spread?: TopologySpreadConstraint[];
  owner?: string;
  phase?: string;
  terminating?: boolean;
  nodeSelector?: Record<string, string>;
  tolerations?: NonNullable<Pod['spec']>['tolerations'];
}

export function pod(name: string, o: PodOpts = {}): Pod {
  return {
    metadata: {
      name,
      namespace: o.ns ?? 'default',
      uid: `uid-${name}`,
      labels: o.labels ?? {},
      ownerReferences: o.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: `uid-${o.owner}`, controller: true }] : undefined,
      deletionTimestamp: o.terminating ? '2026-01-01T00:00:00Z' : undefined,
    },
    spec: {
      nodeName: o.node,
      affinity: o.affinity,
      topologySpreadConstraints: o.spread,
      nodeSelector: o.nodeSelector,
      tolerations: o.tolerations,
      containers: [{ name: 'c', image: 'x' }],
    },
    status: { phase: o.phase ?? (o.node ? 'Running' : 'Pending') },
  };
}

/** A term selecting `labels` over `topologyKey` (hostname by default). */
export function term(labels: Record<string, string>, topologyKey = 'kubernetes.io/hostname', extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm {
  return { labelSelector: { matchLabels: labels }, topologyKey, ...extra };
}

/** Nodes named by `spec`: name → labels beyond hostname (e.g. a zone); pods are placed by their spec.nodeName. */
export function cluster(spec: Record<string, Record<string, string>>, pods: Pod[], namespaces: Record<string, Record<string, string>> = {}, taints: Record<string, NonNullable<NonNullable<ReturnType<typeof mkNode>['spec']>['taints']>> = {}): Snapshot {
  const infos: NodeInfo[] = Object.entries(spec).map(([name, labels]) =>
    mkInfo(
      mkNode(name, { labels: { 'kubernetes.io/hostname': name, ...labels }, taints: taints[name] }),
      pods.filter((p) => p.spec?.nodeName === name),
    ),
  );
  return mkSnapshot(infos, namespaces);
}

/** PreFilter then Filter on every node: node → reasons joined (or 'ok'), and node → status code. */
export function filterAll(plugin: FilterPlugin, p: Pod, snap: Snapshot): { reasons: Record<string, string>; codes: Record<string, string> } {
  const state = new CycleState();
  const pre = plugin.preFilter?.(p, snap, state);
  if (pre) throw new Error(`preFilter rejected: ${pre.reasons.join(', ')}`);
  const reasons: Record<string, string> = {};
  const codes: Record<string, string> = {};
  for (const n of snap.nodes) {
    const s = plugin.filter(p, n, state);
    const name = n.node.metadata?.name ?? '';
    reasons[name] = s ? s.reasons.join(', ') : 'ok';
    codes[name] = s ? s.code : 'ok';
  }
  return { reasons, codes };
}

/**
 * PreScore, Score and NormalizeScore over every node of the snapshot (all feasible): node →
 * normalized score. With `preFilter`, that filter's PreFilter runs first on the same state, as in
 * a real attempt.
 */
export function scoreAll(plugin: ScorePlugin, p: Pod, snap: Snapshot, feasible = snap.nodes, preFilter?: FilterPlugin): Record<string, number> {
  const state = new CycleState();
  preFilter?.preFilter?.(p, snap, state);
  plugin.preScore?.(p, feasible, snap, state);
  const raw = feasible.map((n) => plugin.score(p, n, state));
  plugin.normalize?.(raw, p, feasible, state);
  return Object.fromEntries(feasible.map((n, i) => [n.node.metadata?.name ?? '', raw[i]]));
}
