import type { Pod, PodSpec, PodTemplateSpec } from 'kubernetes-types/core/v1';
import type { OwnerReference } from 'kubernetes-types/meta/v1';

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Ready for at least `minReadySeconds` at `nowMs` (Kubernetes' IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const c = pod.status?.conditions?.find((x) => x.type === 'Ready');
  if (!c || c.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= nowMs;
}

/** Not terminating and not finished: counts toward a ReplicaSet's replicas. */
export function isPodActive(pod: Pod): boolean {
  return !pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

/**
 * A controller's pod from its template (Kubernetes' GetPodFromTemplate): the
 * template's labels and annotations with `extra` ones on top, `spec` (a private
 * copy the caller may have changed), owned by the controller.
 */
export function podFromTemplate(
  template: PodTemplateSpec | undefined,
  spec: PodSpec,
  meta: { name: string; namespace?: string; owner: OwnerReference; labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] },
): Pod {
  const labels = { ...(template?.metadata?.labels ?? {}), ...(meta.labels ?? {}) };
  const annotations = { ...(template?.metadata?.annotations ?? {}), ...(meta.annotations ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ...(meta.finalizers?.length ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [meta.owner],
    },
    spec,
  };
}
