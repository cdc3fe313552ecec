import type { DaemonSet } from 'kubernetes-types/apps/v1';
import type { Affinity, Node, Pod, PodSpec, Taint, Toleration } from 'kubernetes-types/core/v1';
import { podFitsNodeAffinity } from '../../lib/node-affinity';
import { generatedName } from '../../lib/names';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, tolerates } from '../../lib/tolerations';
import { newControllerRef } from '../util/owners';
import { podFromTemplate } from '../util/pods';

/** Where a DaemonSet's pods go: which nodes, with what tolerations and affinity. Pure. */

/** The label naming the ControllerRevision a pod was made from. */
export const HASH_LABEL = 'controller-revision-hash';
/** The DaemonSet's generation when the pod was made (informational, as Kubernetes). */
export const GENERATION_LABEL = 'pod-template-generation';

/**
 * The tolerations every DaemonSet pod gets on top of its template's, as
 * Kubernetes adds them: it keeps running on a node that is not ready or
 * unreachable (NoExecute, forever), and is placed on nodes under disk, memory
 * or PID pressure and on cordoned nodes; with hostNetwork also on nodes whose
 * network is not set up yet.
 */
export function daemonPodTolerations(spec: PodSpec | undefined): Toleration[] {
  const out = [...(spec?.tolerations ?? [])];
  const add = (key: string, effect: string) => {
    if (!out.some((t) => t.key === key && t.effect === effect && (t.operator ?? 'Equal') === 'Exists')) out.push({ key, operator: 'Exists', effect });
  };
  add(TAINT_NOT_READY, 'NoExecute');
  add(TAINT_UNREACHABLE, 'NoExecute');
  add('node.kubernetes.io/disk-pressure', 'NoSchedule');
  add('node.kubernetes.io/memory-pressure', 'NoSchedule');
  add('node.kubernetes.io/pid-pressure', 'NoSchedule');
  add('node.kubernetes.io/unschedulable', 'NoSchedule');
  if (spec?.hostNetwork) add('node.kubernetes.io/network-unavailable', 'NoSchedule');
  return out;
}

export interface NodeVerdict {
  /** A daemon pod should be placed on the node now. */
  shouldRun: boolean;
  /** A daemon pod already there may stay (only a NoExecute taint it does not tolerate, or a selector change, evicts it). */
  shouldContinueRunning: boolean;
}

function untolerated(taints: Taint[], tolerations: Toleration[], effects: string[]): boolean {
  return taints.some((t) => effects.includes(t.effect) && !tolerations.some((tol) => tolerates(tol, t)));
}

/** Kubernetes' NodeShouldRunDaemonPod: template nodeName, nodeSelector, required node affinity, taints. */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): NodeVerdict {
  const spec = ds.spec?.template?.spec;
  const name = node.metadata?.name;
  const no = { shouldRun: false, shouldContinueRunning: false };
  if (spec?.nodeName && spec.nodeName !== name) return no;
  if (!podFitsNodeAffinity(spec, node)) return no;
  const tolerations = daemonPodTolerations(spec);
  const taints = node.spec?.taints ?? [];
  if (untolerated(taints, tolerations, ['NoSchedule', 'NoExecute'])) {
    return { shouldRun: false, shouldContinueRunning: !untolerated(taints, tolerations, ['NoExecute']) };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/**
 * The template's affinity with its required node affinity replaced by one term
 * `metadata.name In [node]` (matchFields), so the default scheduler binds the
 * pod to that node. Preferred affinity and pod (anti-)affinity are kept.
 */
export function affinityForNode(a: Affinity | undefined, nodeName: string): Affinity {
  const out = structuredClone(a ?? {});
  out.nodeAffinity = {
    ...(out.nodeAffinity ?? {}),
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
    },
  };
  return out;
}

/** The node a daemon pod is on, or is meant for (the matchFields term) while unscheduled. */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

/** `<ds>-<5 random characters>` (what generateName gives). */
export function newDaemonPodName(dsName: string, rand?: () => number): string {
  return generatedName(`${dsName}-`, rand);
}

/** A pod of `ds` for `nodeName`, labelled with the revision `hash`, owned by the DaemonSet. */
export function newDaemonPod(ds: DaemonSet, nodeName: string, hash: string, name: string): Pod {
  const t = ds.spec?.template;
  const spec: PodSpec = structuredClone(t?.spec ?? { containers: [] });
  spec.tolerations = daemonPodTolerations(spec);
  spec.affinity = affinityForNode(spec.affinity, nodeName);
  return podFromTemplate(t, spec, {
    name,
    namespace: ds.metadata?.namespace,
    owner: newControllerRef(ds, 'apps/v1', 'DaemonSet'),
    labels: { [HASH_LABEL]: hash, [GENERATION_LABEL]: String(ds.metadata?.generation ?? 1) },
  });
}
