import type { ContainerImage, Node, NodeStatus } from 'kubernetes-types/core/v1';
import { ApiError, type ApiClient } from '../lib/client';
import type { Logger } from '../lib/log';
import { sleep } from '../lib/sleep';
import { NODES } from '../lib/resources';
import type { KubeletMetrics } from './metrics';
import { nodeStatusImages } from './node-images';
import { buildNode, buildNodeStatus, nodeLabels, type ConditionSpec, type NodeFacts } from './node-status';
import type { RuntimeImage } from './runtime';

/**
 * Registers this node with the apiserver and keeps its status fresh: one
 * heartbeat (conditions' lastHeartbeatTime) every `heartbeatMs`. Learns the
 * node's podCIDR from the Node object (set by the controllers' node IPAM).
 */
export class NodeManager {
  private lastStatus?: NodeStatus;
  private timer?: NodeJS.Timeout;
  private podCIDRWaiters: ((cidr: string) => void)[] = [];
  podCIDR?: string;
  private notReady?: { reason: string; message: string };
  /** Conditions other parts of the kubelet decide (NetworkUnavailable from the route sync), by type. */
  private readonly extra = new Map<string, ConditionSpec>();
  /** The Node's uid once registered (owner of the node Lease). */
  uid?: string;

  constructor(
    private readonly client: ApiClient,
    private readonly facts: NodeFacts,
    private readonly log: Logger,
    private readonly opts: {
      heartbeatMs?: number;
      now?: () => number;
      metrics?: KubeletMetrics;
      /** The runtime's images, for status.images (the scheduler's ImageLocality); none reported without it. */
      listImages?: () => Promise<RuntimeImage[]>;
    } = {},
  ) {}

  /** The last status.images read from the runtime (kept when a later read fails). */
  private images?: ContainerImage[];

  private async refreshImages(): Promise<void> {
    if (!this.opts.listImages) return;
    // A slow runtime must not hold the heartbeat: give it 5 s, else report the last list.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('listing images took over 5s')), 5_000);
    });
    try {
      this.images = nodeStatusImages(await Promise.race([this.opts.listImages(), timeout]));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot list images for the node status; keeping the last list');
    } finally {
      clearTimeout(timer);
    }
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Creates the Node, or brings an existing one's labels and status up to date. Retries until it works or `signal` aborts. */
  async register(signal?: AbortSignal): Promise<void> {
    let delay = 500;
    while (!signal?.aborted) {
      try {
        await this.tryRegister();
        this.log.info({ node: this.facts.name, podCIDR: this.podCIDR }, 'node registered');
        return;
      } catch (err) {
        this.log.warn({ node: this.facts.name, err: (err as Error).message }, 'node registration failed; retrying');
        await sleep(delay, signal);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private async tryRegister(): Promise<void> {
    const name = this.facts.name;
    let node: Node;
    try {
      node = await this.client.create<Node & Record<string, unknown>>(NODES, buildNode(this.facts, this.now()) as Node & Record<string, unknown>);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      node = await this.client.patch<Node & Record<string, unknown>>(NODES, name, { metadata: { labels: nodeLabels(this.facts) } });
    }
    this.notePodCIDR(node);
    this.lastStatus = node.status;
    await this.heartbeat();
  }

  /** Writes the full node status with fresh heartbeat times; returns the node as stored. */
  async heartbeat(): Promise<void> {
    await this.refreshImages();
    const status = buildNodeStatus(this.facts, this.now(), this.lastStatus, this.notReady, [...this.extra.values()]);
    if (this.images) status.images = this.images;
    let node: Node;
    try {
      node = await this.client.patch<Node & Record<string, unknown>>(NODES, this.facts.name, { status }, { subresource: 'status' });
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 405 || err.code === 415))) throw err;
      const current = await this.client.get<Node & Record<string, unknown>>(NODES, this.facts.name);
      node = await this.client.updateStatus(NODES, { ...current, status: { ...current.status, ...status } });
    }
    this.lastStatus = node.status ?? status;
    this.notePodCIDR(node);
  }

  /** From now on the node reports Ready=False with this reason (graceful node shutdown). */
  setNotReady(reason: string, message: string): void {
    this.notReady = { reason, message };
  }

  /**
   * Sets a condition that the heartbeat reports from now on (NetworkUnavailable).
   * Returns whether it changed (status, reason or message); a change is written at
   * once, not at the next heartbeat, once the node is registered.
   */
  setCondition(c: ConditionSpec): boolean {
    const prev = this.extra.get(c.type);
    if (prev && prev.status === c.status && prev.reason === c.reason && prev.message === c.message) return false;
    this.extra.set(c.type, { ...c });
    if (this.lastStatus) {
      void this.heartbeat().catch((err: Error) => this.log.warn({ condition: c.type, err: err.message }, 'cannot write node condition; the next heartbeat will'));
    }
    return true;
  }

  /** Starts heartbeats every `heartbeatMs` (default 10 s); a failed heartbeat re-registers (the Node may be gone). */
  startHeartbeats(): void {
    const every = this.opts.heartbeatMs ?? 10_000;
    const tick = async () => {
      try {
        await this.heartbeat();
        this.opts.metrics?.heartbeats.inc({ result: 'ok' });
      } catch (err) {
        this.opts.metrics?.heartbeats.inc({ result: 'error' });
        this.log.warn({ err: (err as Error).message }, 'node heartbeat failed');
        if (err instanceof ApiError && err.notFound) await this.tryRegister().catch(() => undefined);
      }
      if (this.timer) this.timer = setTimeout(tick, this.podCIDR ? every : Math.min(every, 1_000));
    };
    this.timer = setTimeout(tick, this.podCIDR ? every : 1_000);
  }

  stop(): void {
    const t = this.timer;
    this.timer = undefined;
    if (t) clearTimeout(t);
  }

  /** Resolves with the node's podCIDR once the controllers assigned it (heartbeats poll every second until then). */
  waitForPodCIDR(): Promise<string> {
    if (this.podCIDR) return Promise.resolve(this.podCIDR);
    return new Promise((resolve) => this.podCIDRWaiters.push(resolve));
  }

  private notePodCIDR(node: Node): void {
    if (node.metadata?.uid) this.uid = node.metadata.uid;
    const cidr = node.spec?.podCIDR ?? node.spec?.podCIDRs?.[0];
    if (!cidr || cidr === this.podCIDR) return;
    if (this.podCIDR) this.log.warn({ old: this.podCIDR, new: cidr }, 'node podCIDR changed; keeping the first one until restart');
    else {
      this.podCIDR = cidr;
      this.log.info({ podCIDR: cidr }, 'node podCIDR assigned');
      for (const w of this.podCIDRWaiters.splice(0)) w(cidr);
    }
  }
}
