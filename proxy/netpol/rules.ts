import { createHash } from 'node:crypto';
import type { Pod } from 'kubernetes-types/core/v1';
import { formatCidr, parseIPv4 } from '../../lib/ipv4';
import type { Allowance, PodRules, PolicyIndex } from './policy';

/**
 * The iptables rules that enforce NetworkPolicy for one node's pods (pure:
 * `iptables.ts` applies them). Only chains named `chainPrefix(node)...` are
 * Coxswain's; a jump from FORWARD (first rule) enters the top chain:
 *
 *   CXNP-<node hash>            replies (conntrack ESTABLISHED,RELATED) return at once;
 *                               then a jump per isolated local pod and direction
 *   CXNP-<node hash>-E<pod ip>  egress of a pod: an allowed destination RETURNs, the rest is DROPped
 *   CXNP-<node hash>-I<pod ip>  ingress of a pod: node addresses and allowed sources RETURN, the rest is DROPped
 *
 * RETURN, never ACCEPT: allowed traffic goes on to the FORWARD rules after the
 * jump (the kubelet's accepts), so a pod checked for egress is still checked for
 * ingress when both are on this node, and traffic that is not a pod's is left
 * to whatever else decides it. Pods on other nodes are those nodes' business:
 * each node checks the egress of the pods it hosts and the ingress of the same.
 * Same-node traffic is bridged, so it reaches FORWARD only with
 * `net.bridge.bridge-nf-call-iptables=1` (see `iptables.ts`).
 */

/** Chains of one node start with this (a node hash, so nodes sharing a host keep separate chains; iptables caps names at 28 characters). */
export function chainPrefix(nodeName: string): string {
  return `CXNP-${createHash('sha256').update(nodeName).digest('hex').slice(0, 8)}`;
}

export interface NodeRuleset {
  /** The top chain, jumped to from FORWARD. */
  top: string;
  /** Every chain this node needs, top first, each with its rules (the text after `-A <chain> `). */
  chains: Map<string, string[]>;
}

const hexIP = (ip: string) => (parseIPv4(ip) ?? 0).toString(16).padStart(8, '0');
const podKey = (p: Pod) => `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name ?? ''}`;
const comment = (text: string) => `-m comment --comment "${text.replace(/["\\]/g, '')}"`;

/**
 * One allowance as iptables matches: `-s`/`-d` per peer block times
 * `-p` (with `--dport`) per port range. SCTP ports are left out: the proxy has
 * no SCTP and the kernel module may be missing, so they allow nothing.
 */
function allowanceRules(a: Allowance, peerFlag: '-s' | '-d'): string[] {
  const peers = a.peers === undefined ? [''] : a.peers.map((c) => `${peerFlag} ${formatCidr(c)} `);
  const ports =
    a.ports === undefined
      ? ['']
      : a.ports
          .filter((r) => r.protocol !== 'SCTP')
          .map((r) => {
            const p = r.protocol.toLowerCase();
            if (r.from === undefined) return `-p ${p} `;
            return `-p ${p} -m ${p} --dport ${r.from}${r.to !== undefined && r.to !== r.from ? `:${r.to}` : ''} `;
          });
  const out: string[] = [];
  for (const peer of peers) for (const port of ports) out.push(`${peer}${port}${comment(a.policy)} -j RETURN`);
  return out;
}

function podChain(rules: PodRules, peerFlag: '-s' | '-d', before: string[]): string[] {
  const seen = new Set<string>();
  const out = [...before];
  for (const a of rules.allow) {
    for (const r of allowanceRules(a, peerFlag)) {
      if (seen.has(r)) continue;
      seen.add(r);
      out.push(r);
    }
  }
  out.push('-j DROP');
  return out;
}

/**
 * The chains for `nodeName`'s pods; undefined when no policy isolates any of
 * them (then the node needs no chain and no jump at all).
 */
export function desiredRuleset(index: PolicyIndex, nodeName: string): NodeRuleset | undefined {
  const prefix = chainPrefix(nodeName);
  const local = index.pods.filter((p) => p.spec?.nodeName === nodeName).sort((a, b) => (parseIPv4(a.status!.podIP!)! - parseIPv4(b.status!.podIP!)!));
  const top: string[] = [`-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`];
  const chains = new Map<string, string[]>([[prefix, top]]);
  const nodeSources = [...index.nodeIPs].sort().map((ip) => `-s ${ip}/32 ${comment('node traffic')} -j RETURN`);
  for (const pod of local) {
    const ip = pod.status!.podIP!;
    const egress = index.egress(pod);
    if (egress.isolated) {
      const chain = `${prefix}-E${hexIP(ip)}`;
      top.push(`-s ${ip}/32 ${comment(`${podKey(pod)} egress`)} -j ${chain}`);
      chains.set(chain, podChain(egress, '-d', []));
    }
    const ingress = index.ingress(pod);
    if (ingress.isolated) {
      const chain = `${prefix}-I${hexIP(ip)}`;
      top.push(`-d ${ip}/32 ${comment(`${podKey(pod)} ingress`)} -j ${chain}`);
      chains.set(chain, podChain(ingress, '-s', nodeSources));
    }
  }
  return chains.size > 1 ? { top: prefix, chains } : undefined;
}

/**
 * The `iptables-restore --noflush` input that makes the filter table's
 * chains of this node exactly `desired`: each desired chain declared (which
 * empties it) and filled, every other owned chain in `existing` emptied and
 * deleted. The FORWARD jump is not in it (see `iptables.ts`).
 */
export function restoreInput(desired: NodeRuleset | undefined, existing: readonly string[]): string {
  const lines = ['*filter'];
  const stale = existing.filter((c) => !desired?.chains.has(c));
  for (const c of [...(desired?.chains.keys() ?? []), ...stale]) lines.push(`:${c} - [0:0]`);
  for (const [c, rules] of desired?.chains ?? []) for (const r of rules) lines.push(`-A ${c} ${r}`);
  for (const c of stale) lines.push(`-X ${c}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}
