import type { Namespace, Pod } from 'kubernetes-types/core/v1';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from 'kubernetes-types/networking/v1';
import { formatCidr, inCidr, parseCidr, parseIPv4, type Cidr } from '../../lib/ipv4';
import { matchesSelector } from '../../lib/label-selector';
import { subtractCidrs } from './cidr';

/**
 * NetworkPolicy semantics, the pure core shared by the iptables rules
 * (`rules.ts`) and the proxy's per-connection check (`evaluate`). No sockets,
 * no commands: a `PolicyView` (what the informers hold) goes in, and out come,
 * per pod and direction, whether the pod is isolated and the allowances that
 * let traffic through.
 *
 * The rules, as Kubernetes defines them:
 * - A pod is isolated for a direction once any policy in its namespace selects
 *   it (`spec.podSelector`) with that direction in its `policyTypes`; until
 *   then everything is allowed that way. Policies add up: traffic is allowed if
 *   any rule of any policy selecting the pod allows it.
 * - `policyTypes` left out means Ingress, plus Egress when `spec.egress` has rules.
 * - A rule with no `from`/`to` matches every address; no `ports`, every port.
 * - A peer's `podSelector` alone picks pods of the policy's namespace;
 *   `namespaceSelector` alone, every pod of the namespaces it picks; both, the
 *   pods it picks in those namespaces; `ipBlock`, addresses in `cidr` outside
 *   every `except` (pod IPs included).
 * - A port defaults to TCP; a named port is the destination pod's container
 *   port of that name and protocol; `endPort` makes a numeric port a range.
 * - Traffic from the destination pod's node is always allowed (kubelet probes,
 *   the proxy); replies of allowed connections are too (conntrack in the rules,
 *   the proxy's spliced sockets).
 */

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** What the evaluation reads: the informers' objects and the nodes' addresses. */
export interface PolicyView {
  policies: readonly NetworkPolicy[];
  pods: readonly Pod[];
  namespaces: readonly Namespace[];
  /** Addresses of the cluster's nodes (InternalIPs): traffic from them to a pod is node traffic. */
  nodeIPs: readonly string[];
}

/** A port (or all ports, `from` undefined) of one protocol. */
export interface PortRange {
  protocol: Protocol;
  from?: number;
  to?: number;
}

/** Traffic a rule lets through: peers (undefined: any address) and ports (undefined: any port of any protocol). */
export interface Allowance {
  /** The `namespace/name` of the policy it came from. */
  policy: string;
  peers?: Cidr[];
  ports?: PortRange[];
}

/** One pod's rules for one direction: not isolated means all allowed. */
export interface PodRules {
  isolated: boolean;
  allow: Allowance[];
}

/** A pod taking part in policies: it has a pod IP of its own and is not finished. */
export function isPolicyPod(p: Pod): boolean {
  return !!p.status?.podIP && !p.spec?.hostNetwork && p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed' && !!p.metadata?.name;
}

const nsOf = (o: { metadata?: { namespace?: string } }) => o.metadata?.namespace ?? 'default';
const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${nsOf(o)}/${o.metadata?.name ?? ''}`;

/** `policyTypes` with Kubernetes' default filled in. */
export function policyTypesOf(np: NetworkPolicy): { ingress: boolean; egress: boolean } {
  const types = np.spec?.policyTypes;
  if (types && types.length > 0) return { ingress: types.includes('Ingress'), egress: types.includes('Egress') };
  return { ingress: true, egress: (np.spec?.egress?.length ?? 0) > 0 };
}

/** A view indexed for repeated questions; build one per change of the inputs. */
export class PolicyIndex {
  readonly pods: Pod[];
  private readonly byIP = new Map<string, Pod>();
  private readonly nsLabels = new Map<string, Record<string, string>>();
  readonly nodeIPs: ReadonlySet<string>;
  private readonly cache = new Map<string, PodRules>();

  constructor(readonly view: PolicyView) {
    this.pods = view.pods.filter(isPolicyPod);
    for (const p of this.pods) this.byIP.set(p.status!.podIP!, p);
    for (const n of view.namespaces) {
      const name = n.metadata?.name;
      if (name) this.nsLabels.set(name, { ...(n.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': name });
    }
    this.nodeIPs = new Set(view.nodeIPs);
  }

  podByIP(ip: string): Pod | undefined {
    return this.byIP.get(ip);
  }

  /** A namespace's labels (with the automatic `kubernetes.io/metadata.name`, also for a namespace not seen yet). */
  namespaceLabels(ns: string): Record<string, string> {
    return this.nsLabels.get(ns) ?? { 'kubernetes.io/metadata.name': ns };
  }

  /** The policies selecting `pod` for a direction. */
  selecting(pod: Pod, dir: 'ingress' | 'egress'): NetworkPolicy[] {
    return this.view.policies.filter(
      (np) => nsOf(np) === nsOf(pod) && policyTypesOf(np)[dir] && matchesSelector(np.spec?.podSelector ?? {}, pod.metadata?.labels),
    );
  }

  /** The pods a selector peer picks (none for an ipBlock peer or an empty one). */
  peerPods(peer: NetworkPolicyPeer, policyNs: string): Pod[] {
    if (peer.ipBlock || (!peer.podSelector && !peer.namespaceSelector)) return [];
    return this.pods.filter((p) => {
      const ns = nsOf(p);
      if (peer.namespaceSelector) {
        if (!matchesSelector(peer.namespaceSelector, this.namespaceLabels(ns))) return false;
      } else if (ns !== policyNs) return false;
      return !peer.podSelector || matchesSelector(peer.podSelector, p.metadata?.labels);
    });
  }

  /** A peer as address blocks: its pods' IPs as /32s, or its ipBlock minus the excepts (an invalid CIDR matches nothing). */
  peerCidrs(peer: NetworkPolicyPeer, policyNs: string): Cidr[] {
    if (peer.ipBlock) {
      const cidr = parseCidr(peer.ipBlock.cidr ?? '');
      if (!cidr) return [];
      const excepts = (peer.ipBlock.except ?? []).map((e) => parseCidr(e)).filter((e): e is Cidr => !!e);
      return subtractCidrs(cidr, excepts);
    }
    return this.peerPods(peer, policyNs).map((p) => ({ base: parseIPv4(p.status!.podIP!)!, prefix: 32 }));
  }

  /** The ingress rules of a pod: peers are sources, named ports resolve on the pod itself. */
  ingress(pod: Pod): PodRules {
    return this.cached(`I ${keyOf(pod)}`, () => {
      const policies = this.selecting(pod, 'ingress');
      const allow: Allowance[] = [];
      for (const np of policies) {
        for (const rule of np.spec?.ingress ?? []) {
          const peers = rule.from?.length ? dedupe(rule.from.flatMap((f) => this.peerCidrs(f, nsOf(np)))) : undefined;
          if (peers && peers.length === 0) continue;
          if (!rule.ports?.length) {
            allow.push({ policy: keyOf(np), peers });
            continue;
          }
          const ports = rule.ports.map((p) => resolvePort(p, pod)).filter((p): p is PortRange => !!p);
          if (ports.length > 0) allow.push({ policy: keyOf(np), peers, ports });
        }
      }
      return { isolated: policies.length > 0, allow };
    });
  }

  /**
   * The egress rules of a pod: peers are destinations. A named port resolves
   * on each destination pod, so it becomes one allowance per port number,
   * holding the pods (inside the rule's peers) that name it so.
   */
  egress(pod: Pod): PodRules {
    return this.cached(`E ${keyOf(pod)}`, () => {
      const policies = this.selecting(pod, 'egress');
      const allow: Allowance[] = [];
      for (const np of policies) {
        for (const rule of np.spec?.egress ?? []) {
          const peers = rule.to?.length ? dedupe(rule.to.flatMap((t) => this.peerCidrs(t, nsOf(np)))) : undefined;
          if (peers && peers.length === 0) continue;
          if (!rule.ports?.length) {
            allow.push({ policy: keyOf(np), peers });
            continue;
          }
          const numeric = rule.ports.filter((p) => typeof p.port !== 'string');
          const ports = numeric.map((p) => resolvePort(p, undefined)).filter((p): p is PortRange => !!p);
          if (ports.length > 0) allow.push({ policy: keyOf(np), peers, ports });
          const named = rule.ports.filter((p) => typeof p.port === 'string');
          if (named.length === 0) continue;
          // Destination pods inside the peers, each with the numbers the names give on it.
          const byPort = new Map<string, { range: PortRange; ips: Cidr[] }>();
          for (const dst of this.pods) {
            const ip = parseIPv4(dst.status!.podIP!)!;
            if (peers && !peers.some((c) => inCidr(dst.status!.podIP!, c))) continue;
            for (const p of named) {
              const range = resolvePort(p, dst);
              if (!range) continue;
              const k = `${range.protocol}/${range.from}`;
              const e = byPort.get(k) ?? { range, ips: [] };
              e.ips.push({ base: ip, prefix: 32 });
              byPort.set(k, e);
            }
          }
          for (const { range, ips } of byPort.values()) allow.push({ policy: keyOf(np), peers: ips, ports: [range] });
        }
      }
      return { isolated: policies.length > 0, allow };
    });
  }

  private cached(key: string, compute: () => PodRules): PodRules {
    let r = this.cache.get(key);
    if (!r) this.cache.set(key, (r = compute()));
    return r;
  }
}

function dedupe(cidrs: Cidr[]): Cidr[] {
  const seen = new Map<string, Cidr>();
  for (const c of cidrs) seen.set(formatCidr(c), c);
  return [...seen.values()];
}

/** The protocol of a policy port; undefined for one that is not TCP, UDP or SCTP (it matches nothing). */
function protocolOf(p: NetworkPolicyPort): Protocol | undefined {
  const proto = p.protocol ?? 'TCP';
  return proto === 'TCP' || proto === 'UDP' || proto === 'SCTP' ? proto : undefined;
}

/**
 * A policy port as a range on `pod` (the destination): a name is looked up in
 * its containers' ports (undefined when it has none of that name and protocol,
 * or no pod is given); a bad range (endPort below port, port out of 1-65535)
 * matches nothing.
 */
export function resolvePort(p: NetworkPolicyPort, pod: Pod | undefined): PortRange | undefined {
  const protocol = protocolOf(p);
  if (!protocol) return undefined;
  if (p.port === undefined || p.port === null) return { protocol };
  if (typeof p.port === 'string') {
    if (/^\d+$/.test(p.port)) return resolvePort({ ...p, port: Number(p.port) }, pod);
    for (const c of [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])]) {
      const cp = c.ports?.find((x) => x.name === p.port && (x.protocol ?? 'TCP') === protocol);
      if (cp) return { protocol, from: cp.containerPort, to: cp.containerPort };
    }
    return undefined;
  }
  const from = p.port;
  const to = p.endPort ?? p.port;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to > 65535 || to < from) return undefined;
  return { protocol, from, to };
}

/** Whether one direction's rules let traffic to/from `ip` on `protocol`/`port` through. */
export function allows(rules: PodRules, ip: string, protocol: Protocol, port: number): boolean {
  if (!rules.isolated) return true;
  return rules.allow.some(
    (a) =>
      (a.peers === undefined || a.peers.some((c) => inCidr(ip, c))) &&
      (a.ports === undefined || a.ports.some((r) => r.protocol === protocol && (r.from === undefined || (port >= r.from && port <= (r.to ?? r.from))))),
  );
}

export interface Flow {
  src: string;
  dst: string;
  protocol: Protocol;
  /** Destination port. */
  port: number;
}

export interface Verdict {
  allowed: boolean;
  /** Why not: the direction that refused and the pod it protects. */
  reason?: string;
}

const isLoopback = (ip: string) => ip.startsWith('127.');

/**
 * Whether policies allow a new flow: the source pod's egress (if the source
 * is a pod) and the destination pod's ingress (if the destination is a pod and
 * the source is not a node: node traffic is always allowed in). Addresses that
 * are not pods only meet ipBlocks and rules open to everyone.
 */
export function evaluate(index: PolicyIndex, flow: Flow): Verdict {
  const src = index.podByIP(flow.src);
  const dst = index.podByIP(flow.dst);
  if (src && !allows(index.egress(src), flow.dst, flow.protocol, flow.port)) return { allowed: false, reason: `egress of pod ${keyOf(src)}` };
  if (dst && !src && (index.nodeIPs.has(flow.src) || isLoopback(flow.src))) return { allowed: true };
  if (dst && !allows(index.ingress(dst), flow.src, flow.protocol, flow.port)) return { allowed: false, reason: `ingress of pod ${keyOf(dst)}` };
  return { allowed: true };
}
