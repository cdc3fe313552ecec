import type { Node } from 'kubernetes-types/core/v1';
import { formatCidr, parseCidr, parseIPv4 } from '../lib/ipv4';

/**
 * Host-gw routing, the pure core (flannel's host-gw backend is the model): from
 * the Node objects and the routes this host has, the routes to other nodes'
 * podCIDRs to install or remove, and the node's `NetworkUnavailable` condition
 * once they were tried. No commands here: `route-sync.ts` lists the routes,
 * applies the plan and reports.
 */

/**
 * The routing protocol number that marks Coxswain's routes (`ip route ... proto 147`):
 * only routes carrying it are ever replaced or deleted. Not in iproute2's
 * rt_protos list, nor used by flannel, Calico (80) or BIRD (12).
 */
export const ROUTE_PROTOCOL = 147;

/** A route of the host's main table, as `ip -j -4 route show` lists it. */
export interface HostRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  /** A name (`kernel`, `boot`, `static`) or a number as text; absent when filtered by protocol. */
  protocol?: string;
}

/** A route to another node's podCIDR via that node's InternalIP. */
export interface PodRoute {
  dst: string;
  gateway: string;
  node: string;
}

export interface RoutePlan {
  /** Every route the Node objects ask for, installed or not, in node-name order. */
  wanted: PodRoute[];
  /** Routes to install or correct (`ip route replace ... proto N`): missing, or via another gateway. */
  replace: PodRoute[];
  /** Coxswain routes no node asks for any more (a node deleted, its podCIDR changed). */
  remove: HostRoute[];
  /** Other nodes given no route, and why (no podCIDR yet, on this host): expected states, not failures. */
  skipped: { node: string; reason: string }[];
}

export interface PlanInput {
  /** This node's name: it needs no route to itself. */
  self: string;
  /** This node's IP: a peer with the same IP is on this host (its bridge is a connected route here). */
  selfIP: string;
  nodes: readonly Node[];
  /** The host's main IPv4 table (all protocols: a dst already routed by something else is left alone). */
  current: readonly HostRoute[];
  protocol?: number;
}

export function internalIP(node: Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

function podCIDROf(node: Node): string | undefined {
  return node.spec?.podCIDR ?? node.spec?.podCIDRs?.[0];
}

function isOurs(r: HostRoute, protocol: number): boolean {
  // `ip -j route show proto N` leaves `protocol` out: a listing filtered by it holds only ours.
  return r.protocol === String(protocol);
}

/** The routes to install and remove so this host reaches every other node's pods via that node (see the file comment). */
export function planRoutes(input: PlanInput): RoutePlan {
  const protocol = input.protocol ?? ROUTE_PROTOCOL;
  const ours = new Map<string, HostRoute>();
  const others = new Map<string, HostRoute>();
  for (const r of input.current) {
    const c = parseCidr(r.dst === 'default' ? '0.0.0.0/0' : r.dst.includes('/') ? r.dst : `${r.dst}/32`);
    if (!c) continue;
    (isOurs(r, protocol) ? ours : others).set(formatCidr(c), r);
  }
  const wanted: PodRoute[] = [];
  const skipped: RoutePlan['skipped'] = [];
  const claimed = new Map<string, string>();
  const sorted = [...input.nodes].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const n of sorted) {
    const name = n.metadata?.name ?? '';
    if (!name || name === input.self) continue;
    const cidrText = podCIDROf(n);
    if (!cidrText) {
      skipped.push({ node: name, reason: 'no podCIDR yet' });
      continue;
    }
    const cidr = parseCidr(cidrText);
    if (!cidr) {
      skipped.push({ node: name, reason: `podCIDR ${JSON.stringify(cidrText)} is not an IPv4 CIDR` });
      continue;
    }
    const dst = formatCidr(cidr);
    const ip = internalIP(n);
    const ipNum = ip === undefined ? undefined : parseIPv4(ip);
    if (ip === undefined || ipNum === undefined) {
      skipped.push({ node: name, reason: ip === undefined ? 'no InternalIP yet' : `InternalIP ${JSON.stringify(ip)} is not an IPv4 address` });
      continue;
    }
    if (ip === input.selfIP || ipNum >>> 24 === 127) {
      skipped.push({ node: name, reason: `on this host (InternalIP ${ip}): its pods are on a local bridge` });
      continue;
    }
    const holder = claimed.get(dst);
    if (holder) {
      skipped.push({ node: name, reason: `podCIDR ${dst} is also node ${holder}'s` });
      continue;
    }
    const other = others.get(dst);
    if (other) {
      skipped.push({ node: name, reason: `${dst} is already routed on this host (dev ${other.dev ?? '?'}, proto ${other.protocol ?? '?'})` });
      continue;
    }
    claimed.set(dst, name);
    wanted.push({ dst, gateway: ip, node: name });
  }
  const replace = wanted.filter((w) => ours.get(w.dst)?.gateway !== w.gateway);
  const remove = [...ours.entries()].filter(([dst]) => !claimed.has(dst)).map(([, r]) => r);
  return { wanted, replace, remove, skipped };
}

/** A neighbour (ARP) entry, as `ip -j -4 neigh show` lists it. */
export interface Neighbour {
  dst: string;
  dev?: string;
  state?: string[];
}

/**
 * Installed routes whose gateway did not answer ARP: the host tried to reach the
 * peer and its neighbour entry is `FAILED`. Only peers whose Node is Ready count
 * (a host that went down is the node lifecycle's business, not this node's
 * network). Passive: the entries come from traffic that was sent anyway.
 */
export function unansweredPeers(plan: RoutePlan, failures: readonly RouteFailure[], nodes: readonly Node[], neighbours: readonly Neighbour[]): RouteFailure[] {
  const failed = new Set(neighbours.filter((n) => n.state?.includes('FAILED')).map((n) => n.dst));
  const notInstalled = new Set(failures.map((f) => f.route.dst));
  const ready = new Set(nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata?.name));
  return plan.wanted
    .filter((r) => !notInstalled.has(r.dst) && failed.has(r.gateway) && ready.has(r.node))
    .map((route) => ({ route, error: `${route.gateway} does not answer ARP`, unanswered: true }));
}

/** A route that could not be installed, or (`unanswered`) whose gateway does not answer. */
export interface RouteFailure {
  route: PodRoute;
  error: string;
  unanswered?: boolean;
}

/** The node's `NetworkUnavailable` condition, without times. */
export interface NetworkCondition {
  type: 'NetworkUnavailable';
  status: 'True' | 'False';
  reason: 'NoRouteCreated' | 'PeerUnreachable' | 'RouteCreated';
  message: string;
}

/**
 * `NetworkUnavailable` after a pass: True naming each peer whose route could
 * not be installed (`NoRouteCreated`: typically a gateway not on this host's L2
 * segment) or whose gateway does not answer ARP (`PeerUnreachable`, when no
 * route failed), with the error; else False (`RouteCreated`).
 */
export function networkCondition(plan: RoutePlan, failures: readonly RouteFailure[]): NetworkCondition {
  if (failures.length > 0) {
    const parts = failures.map((f) => `${f.unanswered ? 'route' : 'no route'} to node ${f.route.node}'s pods ${f.route.dst} via ${f.route.gateway}: ${f.error}`);
    return {
      type: 'NetworkUnavailable',
      status: 'True',
      reason: failures.some((f) => !f.unanswered) ? 'NoRouteCreated' : 'PeerUnreachable',
      message: `${parts.join('; ')} (is the node on this host's L2 segment?)`,
    };
  }
  const n = plan.wanted.length;
  return {
    type: 'NetworkUnavailable',
    status: 'False',
    reason: 'RouteCreated',
    message: n === 0 ? 'no other node needs a route' : `routes to the pods of ${n} other node${n === 1 ? '' : 's'} are in place`,
  };
}
