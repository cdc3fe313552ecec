import type { Endpoints, LoadBalancerIngress, Node, Service, Taint } from 'kubernetes-types/core/v1';
import { isIP } from 'node:net';
import { firstFree, poolContains, type AddressPool } from './pool';

/**
 * ServiceLB without a cloud, as k3s's does, as a pure function: which
 * addresses a `type: LoadBalancer` Service's `status.loadBalancer.ingress`
 * should list, and the events that go with a change.
 *
 * Without a pool the addresses are the nodes that serve the Service (k3s: the
 * nodes running its svclb DaemonSet pod; Coxswain's proxy runs on every node,
 * so: the nodes such a pod could run on). With `--lb-address-pool`, one pool
 * address per Service, kept while the Service holds it.
 */

/** k3s's labels, honoured as k3s does: once any node has ENABLE_LB_LABEL, only nodes with value "true" serve; a Service's LB_POOL_LABEL then picks the nodes with the same value. */
export const ENABLE_LB_LABEL = 'svccontroller.k3s.cattle.io/enablelb';
export const LB_POOL_LABEL = 'svccontroller.k3s.cattle.io/lbpool';
/** Kubernetes' service controller leaves nodes with this label out of every load balancer. */
export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** Taints a svclb pod tolerates (k3s's tolerations plus the ones every DaemonSet pod gets, except unschedulable). */
const TOLERATED_TAINTS = new Set([
  'node-role.kubernetes.io/master',
  'node-role.kubernetes.io/control-plane',
  'CriticalAddonsOnly',
  'node.kubernetes.io/disk-pressure',
  'node.kubernetes.io/memory-pressure',
  'node.kubernetes.io/pid-pressure',
]);

export interface LbEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** True for a Service this controller implements: type LoadBalancer without a loadBalancerClass (another implementation owns those). */
export function handlesService(svc: Service): boolean {
  return svc.spec?.type === 'LoadBalancer' && !svc.spec.loadBalancerClass;
}

/** `externalTrafficPolicy: Local` on a NodePort or LoadBalancer Service (servicehelper.RequestsOnlyLocalTraffic). */
export function requestsOnlyLocalTraffic(svc: Service): boolean {
  const t = svc.spec?.type;
  return (t === 'LoadBalancer' || t === 'NodePort') && svc.spec?.externalTrafficPolicy === 'Local';
}

function isReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function untolerated(t: Taint): boolean {
  return (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !TOLERATED_TAINTS.has(t.key);
}

/** Nodes with a ready Pod endpoint of the Service (its Endpoints' ready addresses that name a node). */
export function readyEndpointNodes(eps: Endpoints | undefined): Set<string> {
  const out = new Set<string>();
  for (const s of eps?.subsets ?? []) {
    for (const a of s.addresses ?? []) if (a.nodeName && (!a.targetRef || a.targetRef.kind === 'Pod')) out.add(a.nodeName);
  }
  return out;
}

/**
 * The names of the nodes that serve `svc`, sorted: Ready, schedulable, not
 * excluded by label, no NoSchedule/NoExecute taint a svclb pod would not
 * tolerate, k3s's enablelb/lbpool labels; with externalTrafficPolicy Local
 * only nodes with a ready endpoint.
 */
export function servingNodes(svc: Service, nodes: readonly Node[], eps: Endpoints | undefined): string[] {
  const selective = nodes.some((n) => n.metadata?.labels?.[ENABLE_LB_LABEL] !== undefined);
  const pool = svc.metadata?.labels?.[LB_POOL_LABEL];
  const local = requestsOnlyLocalTraffic(svc) ? readyEndpointNodes(eps) : undefined;
  const out: string[] = [];
  for (const n of nodes) {
    const name = n.metadata?.name ?? '';
    const labels = n.metadata?.labels ?? {};
    if (!name || !isReady(n) || n.spec?.unschedulable || n.metadata?.deletionTimestamp) continue;
    if (labels[EXCLUDE_LB_LABEL] !== undefined) continue;
    if ((n.spec?.taints ?? []).some(untolerated)) continue;
    if (selective && (labels[ENABLE_LB_LABEL] !== 'true' || (pool && labels[LB_POOL_LABEL] !== pool))) continue;
    if (local && !local.has(name)) continue;
    out.push(name);
  }
  return out.sort();
}

/**
 * The node addresses of `servingNodes`, as k3s lists them: ExternalIPs if any
 * of those nodes has one, else InternalIPs; only the Service's IP families
 * (IPv4 first when both); de-duplicated and sorted.
 */
export function nodeAddresses(svc: Service, nodes: readonly Node[], eps: Endpoints | undefined): string[] {
  const names = new Set(servingNodes(svc, nodes, eps));
  const ext = new Set<string>();
  const int = new Set<string>();
  for (const n of nodes) {
    if (!names.has(n.metadata?.name ?? '')) continue;
    for (const a of n.status?.addresses ?? []) {
      if (a.type === 'ExternalIP') ext.add(a.address);
      else if (a.type === 'InternalIP') int.add(a.address);
    }
  }
  const ips = [...(ext.size ? ext : int)];
  const families = svc.spec?.ipFamilies?.length ? svc.spec.ipFamilies : ['IPv4'];
  const out: string[] = [];
  for (const f of families) {
    const want = f === 'IPv6' ? 6 : 4;
    out.push(...ips.filter((ip) => isIP(ip) === want).sort());
  }
  return out;
}

/** `namespace/name`. */
export function serviceKey(svc: Service): string {
  return `${svc.metadata?.namespace ?? 'default'}/${svc.metadata?.name ?? ''}`;
}

/**
 * Who holds each pool address: every handled Service whose status lists a
 * pool address, plus `assigned` (addresses this controller wrote that its
 * cache may not show yet). Two claimants of one address: the older Service
 * (creationTimestamp, then key) keeps it; the other gets a new one.
 */
export function poolHolders(services: readonly Service[], pool: AddressPool, assigned: ReadonlyMap<string, string> = new Map()): Map<string, string> {
  const claims: { ip: string; key: string; created: string }[] = [];
  const seen = new Set<string>();
  for (const s of services) {
    if (!handlesService(s)) continue;
    const key = serviceKey(s);
    const created = s.metadata?.creationTimestamp ?? '';
    const pending = assigned.get(key);
    if (pending !== undefined) {
      claims.push({ ip: pending, key, created });
      seen.add(key);
      continue;
    }
    for (const i of s.status?.loadBalancer?.ingress ?? []) if (poolContains(pool, i.ip)) claims.push({ ip: i.ip!, key, created });
  }
  for (const [key, ip] of assigned) if (!seen.has(key)) claims.push({ ip, key, created: '' });
  claims.sort((a, b) => (a.created !== b.created ? (a.created < b.created ? -1 : 1) : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const holders = new Map<string, string>();
  for (const c of claims) if (!holders.has(c.ip)) holders.set(c.ip, c.key);
  return holders;
}

/**
 * The Service's pool address: the one it holds, else its `spec.loadBalancerIP`
 * if that is in the pool and free, else the first free one; undefined when the
 * pool is full.
 */
export function poolAddress(svc: Service, pool: AddressPool, holders: ReadonlyMap<string, string>): string | undefined {
  const key = serviceKey(svc);
  for (const [ip, holder] of holders) if (holder === key) return ip;
  const asked = svc.spec?.loadBalancerIP;
  if (asked && poolContains(pool, asked) && !holders.has(asked)) return asked;
  return firstFree(pool, new Set(holders.keys()));
}

export interface SyncInput {
  service: Service;
  nodes: readonly Node[];
  endpoints?: Endpoints;
  /** With a pool: its holders (`poolHolders`) over every Service. */
  pool?: { pool: AddressPool; holders: ReadonlyMap<string, string> };
}

export interface SyncResult {
  /** The ingress the status should have; undefined: leave the Service alone. */
  ingress?: LoadBalancerIngress[];
  /** True when that differs from the current status. */
  changed: boolean;
  events: LbEvent[];
}

const ipsOf = (ingress: readonly LoadBalancerIngress[] | undefined) => (ingress ?? []).map((i) => i.ip ?? i.hostname ?? '');
const list = (ips: string[]) => `[${ips.join(' ')}]`;

function sameIngress(a: readonly LoadBalancerIngress[], b: readonly LoadBalancerIngress[]): boolean {
  return a.length === b.length && a.every((x, i) => x.ip === b[i]!.ip && (x.hostname ?? '') === (b[i]!.hostname ?? '') && (x.ipMode ?? '') === (b[i]!.ipMode ?? ''));
}

/**
 * One Service's desired load-balancer status. Node addresses get ipMode
 * "Proxy" (the node's own proxy receives the traffic: no other node binds
 * them); pool addresses ipMode "VIP" (every node's proxy binds them on lo, as
 * it does ClusterIPs). A Service that is no longer type LoadBalancer loses its
 * ingress; one with a loadBalancerClass is not touched.
 */
export function syncService(input: SyncInput): SyncResult {
  const svc = input.service;
  const current = svc.status?.loadBalancer?.ingress ?? [];
  if (!handlesService(svc)) {
    if (svc.spec?.type === 'LoadBalancer' || current.length === 0) return { changed: false, events: [] };
    return {
      ingress: [],
      changed: true,
      events: [
        { type: 'Normal', reason: 'DeletingLoadBalancer', message: 'Deleting load balancer' },
        { type: 'Normal', reason: 'DeletedLoadBalancer', message: 'Deleted load balancer' },
      ],
    };
  }
  let ingress: LoadBalancerIngress[];
  let none: string;
  if (input.pool) {
    const ip = poolAddress(svc, input.pool.pool, input.pool.holders);
    ingress = ip ? [{ ip, ipMode: 'VIP' }] : [];
    none = `No free address in the load balancer pool ${input.pool.pool.text}`;
  } else {
    ingress = nodeAddresses(svc, input.nodes, input.endpoints).map((ip) => ({ ip, ipMode: 'Proxy' }));
    none = 'There are no available nodes for LoadBalancer';
  }
  if (sameIngress(current, ingress)) {
    // Still nothing to offer: the warning again (the controller says it once per Service until it has addresses).
    return { ingress, changed: false, events: ingress.length ? [] : [{ type: 'Warning', reason: 'UnAvailableLoadBalancer', message: none }] };
  }
  const events: LbEvent[] = [];
  if (ingress.length === 0) events.push({ type: 'Warning', reason: 'UnAvailableLoadBalancer', message: none });
  else if (current.length === 0) {
    events.push({ type: 'Normal', reason: 'EnsuringLoadBalancer', message: 'Ensuring load balancer' });
    events.push({ type: 'Normal', reason: 'EnsuredLoadBalancer', message: `Ensured load balancer ${list(ipsOf(ingress))}` });
  } else events.push({ type: 'Normal', reason: 'UpdatedLoadBalancer', message: `Updated LoadBalancer with new IPs: ${list(ipsOf(current))} -> ${list(ipsOf(ingress))}` });
  return { ingress, changed: true, events };
}
