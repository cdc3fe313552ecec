import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1';
import type { Logger } from 'pino';
import type { ApiClient } from '../../lib/client';
import { Informer } from '../../lib/informer';
import { NAMESPACES, NODES, PODS, type ResourceRef } from '../../lib/resources';
import { NetworkPolicyEnforcer } from './enforcer';
import { enableBridgeNetfilter, IptablesNetpol } from './iptables';
import { chainPrefix } from './rules';

export const NETWORK_POLICIES: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true };

/**
 * The proxy's NetworkPolicy part, wired: informers on NetworkPolicies, Pods,
 * Namespaces and Nodes feeding an enforcer that writes this node's iptables
 * chains (`iptables: false` leaves iptables alone, for unprivileged runs) and
 * answers the listeners' `admits` question.
 */
export class NetworkPolicyAgent {
  readonly enforcer: NetworkPolicyEnforcer;
  private readonly informers: { start(): Promise<void>; stop(): Promise<void> }[];

  constructor(
    client: ApiClient,
    private readonly opts: { nodeName: string; logger: Logger; iptables: boolean },
  ) {
    const logger = opts.logger;
    this.enforcer = new NetworkPolicyEnforcer({ nodeName: opts.nodeName, logger, writer: opts.iptables ? new IptablesNetpol(chainPrefix(opts.nodeName)) : undefined });
    const feed = <T extends NetworkPolicy | Pod | Namespace | Node>(ref: ResourceRef, kind: 'policy' | 'pod' | 'namespace' | 'node') =>
      new Informer<T>(client, ref, { logger }).on({
        add: (o) => this.enforcer.upsert(kind, o),
        update: (_o, o) => this.enforcer.upsert(kind, o),
        delete: (o) => this.enforcer.remove(kind, o),
      });
    this.informers = [feed<NetworkPolicy>(NETWORK_POLICIES, 'policy'), feed<Pod>(PODS, 'pod'), feed<Namespace>(NAMESPACES, 'namespace'), feed<Node>(NODES, 'node')];
  }

  /** Lists everything, then starts writing rules (never from a half-listed world). */
  async start(): Promise<void> {
    if (this.opts.iptables) {
      const problem = await enableBridgeNetfilter();
      if (problem) this.opts.logger.warn({ err: problem }, 'same-node pod traffic cannot be filtered');
    }
    await Promise.all(this.informers.map((i) => i.start()));
    this.enforcer.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
    await this.enforcer.stop();
  }
}
