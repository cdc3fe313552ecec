import type { StatefulSet } from 'kubernetes-types/apps/v1';
import type { PersistentVolumeClaim, Pod, PodTemplateSpec, Volume } from 'kubernetes-types/core/v1';
import type { OwnerReference } from 'kubernetes-types/meta/v1';
import { newControllerRef } from '../util/owners';
import { podFromTemplate } from '../util/pods';

/**
 * A StatefulSet pod's identity: its name `<set>-<ordinal>`, hostname and
 * subdomain, the labels Kubernetes puts on it, and its claims
 * `<template>-<set>-<ordinal>` with the owner references the retention policy
 * asks for. Pure.
 */

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = 'controller-revision-hash';

/** The ordinal in a pod name `<set>-<n>`, or -1 when the name is not one of `set`'s. */
export function ordinalOf(setName: string, podName: string | undefined): number {
  if (!podName || !podName.startsWith(`${setName}-`)) return -1;
  const rest = podName.slice(setName.length + 1);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : -1;
}

export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata?.name}-${ordinal}`;
}

export function claimName(templateName: string, set: StatefulSet, ordinal: number): string {
  return `${templateName}-${set.metadata?.name}-${ordinal}`;
}

export function podRevision(pod: Pod): string {
  return pod.metadata?.labels?.[REVISION_LABEL] ?? '';
}

/**
 * The pod for `ordinal` built from `template` (the template of `revision`):
 * the template's labels and annotations plus the identity labels, hostname =
 * pod name, subdomain = serviceName, one volume per claim template.
 */
export function newPod(set: StatefulSet, template: PodTemplateSpec, revision: string, ordinal: number): Pod {
  const name = podName(set, ordinal);
  const spec = structuredClone(template.spec ?? { containers: [] });
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const claims: Volume[] = (set.spec?.volumeClaimTemplates ?? []).map((t) => ({
    name: t.metadata?.name ?? '',
    persistentVolumeClaim: { claimName: claimName(t.metadata?.name ?? '', set, ordinal) },
  }));
  const claimNames = new Set(claims.map((v) => v.name));
  const volumes = [...claims, ...(spec.volumes ?? []).filter((v) => !claimNames.has(v.name))];
  if (volumes.length) spec.volumes = volumes;
  return podFromTemplate(template, spec, {
    name,
    namespace: set.metadata?.namespace,
    owner: newControllerRef(set, 'apps/v1', 'StatefulSet'),
    labels: { [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision },
  });
}

/**
 * The owner references a claim should have for the retention policy
 * (Kubernetes' rules): whenDeleted Delete → the set is its controller while
 * the ordinal is in range; whenScaled Delete → the pod becomes its controller
 * once the ordinal is scaled away (so the garbage collector deletes the claim
 * after the pod). Other owners are kept. `pod` may be undefined (not created).
 */
export function claimOwners(set: StatefulSet, claim: PersistentVolumeClaim, pod: Pod | undefined, inRange: boolean): OwnerReference[] {
  const setUid = set.metadata?.uid;
  const podUid = pod?.metadata?.uid;
  const others = (claim.metadata?.ownerReferences ?? []).filter((r) => r.uid !== setUid && !(podUid && r.uid === podUid) && !(r.kind === 'Pod' && r.name === pod?.metadata?.name));
  const p = set.spec?.persistentVolumeClaimRetentionPolicy;
  const whenDeleted = p?.whenDeleted ?? 'Retain';
  const whenScaled = p?.whenScaled ?? 'Retain';
  const refs = [...others];
  if (inRange && whenDeleted === 'Delete') refs.push(newControllerRef(set, 'apps/v1', 'StatefulSet'));
  if (!inRange && whenScaled === 'Delete' && pod && podUid) refs.push(newControllerRef(pod, 'v1', 'Pod'));
  return refs;
}

/** The claim for one template and ordinal: labels from the template plus the set's matchLabels. */
export function newClaim(set: StatefulSet, template: PersistentVolumeClaim, ordinal: number): PersistentVolumeClaim {
  const c = structuredClone(template);
  const claim: PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(template.metadata?.name ?? '', set, ordinal),
      namespace: set.metadata?.namespace,
      labels: { ...(c.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
      ...(c.metadata?.annotations ? { annotations: c.metadata.annotations } : {}),
    },
    spec: c.spec,
  };
  const owners = claimOwners(set, claim, undefined, true);
  if (owners.length) claim.metadata!.ownerReferences = owners;
  return claim;
}

/** Whether two owner reference lists name the same owners the same way. */
export function sameOwners(a: OwnerReference[] | undefined, b: OwnerReference[] | undefined): boolean {
  const f = (l: OwnerReference[] | undefined) => (l ?? []).map((r) => `${r.uid}:${r.controller === true}`).sort().join(',');
  return f(a) === f(b);
}
