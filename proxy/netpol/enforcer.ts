import os from 'node:os';
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1';
import type { Logger } from 'pino';
import { realClock, type Clock } from '../../lib/clock';
import { Controller } from '../../lib/reconcile/controller';
import { evaluate, PolicyIndex, type Protocol } from './policy';
import { chainPrefix, desiredRuleset, type NodeRuleset } from './rules';

/** Where the rules go: `IptablesNetpol` on a node, a recorder in tests. */
export interface RuleWriter {
  apply(desired: NodeRuleset | undefined): Promise<void>;
  /** Whether the jump into the node's chains is still FORWARD's first rule. */
  jumpIsFirst(): Promise<boolean>;
}

export interface EnforcerOptions {
  nodeName: string;
  logger: Logger;
  /** Undefined: no iptables (the proxy's own check still applies to Service traffic). */
  writer?: RuleWriter;
  clock?: Clock;
  /** This host's addresses (default: os.networkInterfaces); asked only when a non-pod client would be refused. */
  localAddresses?: () => string[];
  /** How often the jump's position is checked (the kubelet may insert rules ahead of it); default 10 s. */
  checkPeriodMs?: number;
}

const localAddresses = () =>
  Object.values(os.networkInterfaces())
    .flat()
    .map((a) => a?.address ?? '');

type Kind = 'policy' | 'pod' | 'namespace' | 'node';

const SYNC_KEY = 'rules';

/**
 * NetworkPolicy on one node, fed by the proxy's informers (`upsert`/`remove`).
 * Two outputs from the same `PolicyIndex`:
 * - the node's iptables chains (rules.ts), rewritten whole when the inputs
 *   change (one key of a one-worker Controller, so bursts coalesce and a
 *   failed write is retried with backoff), and rechecked every `checkPeriodMs`;
 * - `admits`, the Service proxy's check before it dials a backend: the proxy
 *   connects from the node, so the backend's node would see node traffic, and
 *   only this check applies the client pod's policies to Service traffic.
 */
export class NetworkPolicyEnforcer {
  private readonly objects: Record<Kind, Map<string, unknown>> = { policy: new Map(), pod: new Map(), namespace: new Map(), node: new Map() };
  private index?: PolicyIndex;
  private readonly controller: Controller;
  private readonly clock: Clock;
  private timer?: unknown;
  private stopped = false;
  /** The ruleset last written (its text), so an unchanged one is not written again. */
  private written?: string;

  constructor(private readonly opts: EnforcerOptions) {
    this.clock = opts.clock ?? realClock;
    this.controller = new Controller({ name: 'netpol', workers: 1, logger: opts.logger, clock: this.clock, baseDelayMs: 500, maxDelayMs: 30_000, reconcile: () => this.reconcile() });
  }

  /** Starts writing rules (call once the informers have synced, so a half-known world never becomes rules). */
  start(): void {
    this.controller.start();
    this.controller.enqueue(SYNC_KEY);
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    await this.controller.stop();
  }

  upsert(kind: Kind, obj: NetworkPolicy | Pod | Namespace | Node): void {
    this.objects[kind].set(`${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`, obj);
    this.changed();
  }

  remove(kind: Kind, obj: NetworkPolicy | Pod | Namespace | Node): void {
    this.objects[kind].delete(`${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`);
    this.changed();
  }

  private changed(): void {
    this.index = undefined;
    if (!this.stopped) this.controller.enqueue(SYNC_KEY);
  }

  private current(): PolicyIndex {
    if (!this.index) {
      const nodes = [...this.objects.node.values()] as Node[];
      this.index = new PolicyIndex({
        policies: [...this.objects.policy.values()] as NetworkPolicy[],
        pods: [...this.objects.pod.values()] as Pod[],
        namespaces: [...this.objects.namespace.values()] as Namespace[],
        nodeIPs: nodes.flatMap((n) => (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address)),
      });
    }
    return this.index;
  }

  /**
   * Whether policy lets `client` (the accepted socket's remote address) open a
   * flow to `backend` on `protocol`: its egress and the backend pod's ingress,
   * as if it connected to the pod directly. Cheap after the first question per
   * pod (the index caches each pod's rules until something changes).
   */
  admits(client: string, backend: { ip: string; port: number }, protocol: Protocol): boolean {
    if (this.objects.policy.size === 0) return true;
    const src = client.startsWith('::ffff:') ? client.slice(7) : client;
    const index = this.current();
    const v = evaluate(index, { src, dst: backend.ip, protocol, port: backend.port });
    // A host process connecting to a ClusterIP bound on lo comes from that address: node traffic, like the node's own IPs.
    if (!v.allowed && !index.podByIP(src) && this.isLocal(src)) return true;
    if (!v.allowed) this.opts.logger.debug({ client: src, backend: `${backend.ip}:${backend.port}`, protocol, reason: v.reason }, 'network policy refuses backend');
    return v.allowed;
  }

  private isLocal(ip: string): boolean {
    return (this.opts.localAddresses ?? localAddresses)().includes(ip);
  }

  /** The node's desired chains now (for tests and debugging). */
  desired(): NodeRuleset | undefined {
    return desiredRuleset(this.current(), this.opts.nodeName);
  }

  private async reconcile(): Promise<void> {
    const writer = this.opts.writer;
    if (!writer || this.stopped) return;
    const desired = this.desired();
    const text = desired ? JSON.stringify([...desired.chains]) : '';
    if (text === this.written) return;
    if (!desired && this.written === undefined) {
      // First pass with nothing isolated: clear what an earlier run left; no iptables is no problem yet.
      await writer.apply(undefined).catch((err: Error) => this.opts.logger.debug({ err: err.message }, 'cannot clear network policy rules'));
      this.written = '';
      return;
    }
    try {
      await writer.apply(desired);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'cannot write network policy rules; retrying');
      throw err;
    }
    const chains = desired ? desired.chains.size - 1 : 0;
    const top = desired?.top ?? chainPrefix(this.opts.nodeName);
    this.opts.logger.info({ chains, top }, desired ? 'network policy rules written' : 'no pod of this node is isolated any more; network policy rules removed');
    this.written = text;
  }

  /** The periodic check: the jump moved from first place (or gone) means a rewrite. */
  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      void (async () => {
        const writer = this.opts.writer;
        if (writer && this.written) {
          const first = await writer.jumpIsFirst().catch(() => false);
          if (!first) {
            this.opts.logger.info('network policy jump is not first in FORWARD; restoring it');
            this.written = 'moved';
            this.controller.enqueue(SYNC_KEY);
          }
        }
        this.schedule();
      })();
    }, this.opts.checkPeriodMs ?? 10_000);
  }
}
