import { isIP } from 'node:net';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { OwnerReference } from 'kubernetes-types/meta/v1';
import { canonicalJson } from '../util/hash';
import { isPodReady } from '../util/pods';
import { matchesMap } from '../util/selectors';
import { resolveTargetPort } from '../endpoints/sync';

/**
 * Kubernetes' EndpointSlice reconciler as a pure function: a Service, the pods
 * it selects, the nodes and the slices it has now → the slices to create,
 * update and delete. `controller.ts` does the writes.
 */

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;

/** Endpoints sharing one address type and resolved port list go to the same slices. */
export interface PortGroup {
  addressType: 'IPv4' | 'IPv6';
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

/** Who the slices belong to: what every slice of theirs carries. */
export interface SliceOwner {
  namespace?: string;
  generateName: string;
  labels: Record<string, string>;
  owner: OwnerReference;
  /** Keep one empty slice when there are no endpoints (the Service controller does; mirroring does not). */
  placeholder: boolean;
}

export interface DesiredEndpoints {
  /** Keyed by groupKey(addressType, ports). */
  groups: Map<string, PortGroup>;
  /** Pods skipped because their Node is not known (yet); the Service is retried. */
  skipped: string[];
}

export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** The identity of a port list, independent of order and of the API's defaults. */
export function portsKey(ports: readonly EndpointPort[] | undefined): string {
  const norm = (ports ?? []).map((p) => ({ name: p?.name ?? '', port: p?.port, protocol: p?.protocol ?? 'TCP', appProtocol: p?.appProtocol }));
  norm.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : (a.port ?? 0) - (b.port ?? 0) || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0)));
  return canonicalJson(norm);
}

/** The identity of a port group: address type and port list. */
export function groupKey(addressType: string | undefined, ports: readonly EndpointPort[] | undefined): string {
  return `${addressType ?? ''}-${portsKey(ports)}`;
}

/** An endpoint's identity in a slice (Kubernetes hashes addresses, hostname and the target's namespace/name). */
function endpointKey(e: Endpoint): string {
  return canonicalJson([e.addresses ?? [], e.hostname ?? '', e.targetRef?.namespace ?? '', e.targetRef?.name ?? '']);
}

/** Kubernetes' ShouldPodBeInEndpoints with terminating pods included (slices keep them, marked terminating). */
function podHasEndpoint(pod: Pod): boolean {
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  return !!pod.status?.podIP && isIP(pod.status.podIP) === 4;
}

/** The endpoint of one pod for `svc`: conditions as upstream (a terminating pod is never ready unless publishNotReadyAddresses). */
export function podToEndpoint(pod: Pod, svc: Service, node: Node | undefined): Endpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: Endpoint = {
    addresses: [pod.status!.podIP!],
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata?.labels?.[ZONE_LABEL];
  if (zone) ep.zone = zone;
  if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace) ep.hostname = pod.spec.hostname;
  return ep;
}

/** The Service's ports as resolved on `pod` (a named targetPort the pod lacks is left out, as upstream). */
export function endpointPorts(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = resolveTargetPort(sp, pod);
    if (port === undefined) continue;
    const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

const byIpThenName = (a: Endpoint, b: Endpoint) => {
  const x = `${a.addresses[0]}\u0000${a.targetRef?.name ?? ''}`;
  const y = `${b.addresses[0]}\u0000${b.targetRef?.name ?? ''}`;
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Every endpoint the Service should have, grouped by resolved port list, in a stable order. */
export function desiredEndpoints(svc: Service, pods: Iterable<Pod>, nodes: ReadonlyMap<string, Node>): DesiredEndpoints {
  const groups = new Map<string, PortGroup>();
  const skipped: string[] = [];
  for (const pod of pods) {
    if (pod.metadata?.namespace !== svc.metadata?.namespace) continue;
    if (!matchesMap(svc.spec?.selector, pod.metadata?.labels)) continue;
    if (!podHasEndpoint(pod)) continue;
    const node = nodes.get(pod.spec?.nodeName ?? '');
    // A pod whose Node is unknown is left out (and the Service retried), unless the
    // user asked for every address to be published.
    if (!node && svc.spec?.publishNotReadyAddresses !== true) {
      skipped.push(pod.metadata?.name ?? '');
      continue;
    }
    const ports = endpointPorts(svc, pod);
    const k = groupKey('IPv4', ports);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { addressType: 'IPv4', ports: [...ports].sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : (a.port ?? 0) - (b.port ?? 0))), endpoints: [] }));
    g.endpoints.push(podToEndpoint(pod, svc, node));
  }
  for (const g of groups.values()) g.endpoints.sort(byIpThenName);
  return { groups, skipped };
}

/** The labels a slice of `svc` carries: the Service's own (minus the reserved ones), headless, service name, managed-by. */
export function sliceLabels(svc: Service, managedBy = CONTROLLER_NAME): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) {
    if (k === SERVICE_NAME_LABEL || k === MANAGED_BY_LABEL || k === HEADLESS_LABEL) continue;
    labels[k] = v;
  }
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = svc.metadata?.name ?? '';
  labels[MANAGED_BY_LABEL] = managedBy;
  return labels;
}

export function serviceOwnerRef(svc: Service): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata?.name ?? '', uid: svc.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** generateName of a slice: `<name>-` (upstream falls back to `endpointslice-` when that is not a valid prefix). */
export function slicePrefix(name: string): string {
  return name.length <= 57 ? `${name}-` : 'endpointslice-';
}

/** What the Service controller's slices of `svc` carry. */
export function serviceSliceOwner(svc: Service): SliceOwner {
  return { namespace: svc.metadata?.namespace, generateName: slicePrefix(svc.metadata?.name ?? ''), labels: sliceLabels(svc), owner: serviceOwnerRef(svc), placeholder: true };
}

function ownedBy(slice: EndpointSlice, o: SliceOwner): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((r) => r.kind === o.owner.kind && r.apiVersion === o.owner.apiVersion && r.uid === o.owner.uid);
}

function newSlice(o: SliceOwner, addressType: string, ports: EndpointPort[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { generateName: o.generateName, namespace: o.namespace, labels: { ...o.labels }, ownerReferences: [{ ...o.owner }] },
    addressType,
    ports: ports.map((p) => ({ ...p })),
    endpoints: [],
  };
}

const sameLabels = (a: Record<string, string> | undefined, b: Record<string, string>) => canonicalJson(a ?? {}) === canonicalJson(b);

/**
 * One port group (upstream reconcileByPortMapping): keep endpoints still wanted
 * where they are (updated in place if their conditions changed), drop the rest,
 * delete slices left empty, top up slices that are being written anyway
 * (fullest first), then put what is left into the unchanged slice it fits best,
 * or into new slices of at most `max` endpoints.
 */
function planPortGroup(o: SliceOwner, existing: EndpointSlice[], group: PortGroup, max: number): SlicePlan {
  const labels = o.labels;
  const desired = new Map<string, Endpoint>();
  for (const e of group.endpoints) desired.set(endpointKey(e), e);
  const toUpdate = new Map<string, EndpointSlice>();
  const unchanged = new Map<string, EndpointSlice>();
  const toDelete: EndpointSlice[] = [];

  for (const slice of existing) {
    const kept: Endpoint[] = [];
    let changed = false;
    for (const e of slice.endpoints ?? []) {
      const k = endpointKey(e);
      const want = desired.get(k);
      if (!want) continue;
      kept.push(want);
      if (canonicalJson(want) !== canonicalJson(e)) changed = true;
      desired.delete(k);
    }
    const name = slice.metadata?.name ?? '';
    if (changed || kept.length !== (slice.endpoints ?? []).length) {
      if (kept.length === 0) toDelete.push(slice);
      else toUpdate.set(name, { ...slice, metadata: { ...slice.metadata, labels }, endpoints: kept });
    } else if (!sameLabels(slice.metadata?.labels, labels)) {
      toUpdate.set(name, { ...slice, metadata: { ...slice.metadata, labels }, endpoints: [...(slice.endpoints ?? [])] });
    } else {
      unchanged.set(name, slice);
    }
  }

  const left = [...desired.values()];
  // Top up the slices being written anyway, the fullest first.
  const filling = [...toUpdate.values()].sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
  for (const s of filling) {
    while (left.length && s.endpoints.length < max) s.endpoints.push(left.shift()!);
  }

  const create: EndpointSlice[] = [];
  while (left.length) {
    let fill: EndpointSlice | undefined;
    if (left.length < max && unchanged.size) {
      // The fullest unchanged slice that still has room for all of them.
      for (const s of unchanged.values()) {
        const n = s.endpoints?.length ?? 0;
        if (n + left.length <= max && (!fill || (fill.endpoints?.length ?? 0) < n)) fill = s;
      }
    }
    if (fill) {
      unchanged.delete(fill.metadata?.name ?? '');
      fill = { ...fill, endpoints: [...(fill.endpoints ?? [])] };
      toUpdate.set(fill.metadata?.name ?? '', fill);
    } else {
      fill = newSlice(o, group.addressType, group.ports);
      create.push(fill);
    }
    while (left.length && fill.endpoints.length < max) fill.endpoints.push(left.shift()!);
  }
  return { create, update: [...toUpdate.values()], delete: toDelete };
}

/** Whether `slice` is exactly the placeholder (IPv4, no ports, no endpoints) of `o`. */
function isPlaceholder(slice: EndpointSlice, o: SliceOwner): boolean {
  return (
    slice.addressType === 'IPv4' &&
    (slice.endpoints ?? []).length === 0 &&
    (slice.ports ?? []).length === 0 &&
    sameLabels(slice.metadata?.labels, o.labels) &&
    canonicalJson(slice.metadata?.ownerReferences ?? []) === canonicalJson([o.owner])
  );
}

/**
 * The whole reconcile of one Service (upstream reconciler.reconcile +
 * finalize). `existing` are the slices labelled with the Service's name and
 * managed by this controller and not being deleted.
 */
export function planEndpointSlices(svc: Service, desired: DesiredEndpoints, existing: EndpointSlice[], max = DEFAULT_MAX_ENDPOINTS_PER_SLICE): SlicePlan {
  return planSlices(serviceSliceOwner(svc), desired.groups, existing, max);
}

/**
 * Slices of one owner from its port groups. Slices owned by another object
 * (an older Service of the same name) or of a group no longer wanted are
 * deleted; with `placeholder`, an owner with no endpoints keeps one empty
 * slice; a delete and a create in the same pass become an update of the
 * doomed slice (fewer writes, and watchers never see the owner with no slice
 * at all).
 */
export function planSlices(o: SliceOwner, groups: ReadonlyMap<string, PortGroup>, existing: EndpointSlice[], max: number): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const byGroup = new Map<string, EndpointSlice[]>();
  const sorted = [...existing].sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  for (const s of sorted) {
    if (!ownedBy(s, o)) {
      plan.delete.push(s);
      continue;
    }
    const k = groupKey(s.addressType, s.ports);
    const list = byGroup.get(k) ?? [];
    list.push(s);
    byGroup.set(k, list);
  }
  for (const k of [...groups.keys()].sort()) {
    const p = planPortGroup(o, byGroup.get(k) ?? [], groups.get(k)!, max);
    plan.create.push(...p.create);
    plan.update.push(...p.update);
    plan.delete.push(...p.delete);
  }
  for (const [k, slices] of byGroup) if (!groups.has(k)) plan.delete.push(...slices);

  if (o.placeholder && existing.length === plan.delete.length && plan.create.length === 0) {
    if (plan.delete.length === 1 && isPlaceholder(plan.delete[0], o)) plan.delete = [];
    else plan.create.push(newSlice(o, 'IPv4', []));
  }

  // Turn delete + create pairs into updates of the slice that would go (address types must match: the field is immutable).
  const keepDeleting: EndpointSlice[] = [];
  for (const doomed of plan.delete) {
    const i = ownedBy(doomed, o) ? plan.create.findIndex((c) => c.addressType === doomed.addressType) : -1;
    if (i >= 0) {
      const [fresh] = plan.create.splice(i, 1);
      plan.update.push({ ...fresh, metadata: { ...doomed.metadata, labels: fresh.metadata?.labels, ownerReferences: fresh.metadata?.ownerReferences } });
    } else {
      keepDeleting.push(doomed);
    }
  }
  plan.delete = keepDeleting;
  return plan;
}
