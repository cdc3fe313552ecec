import { ApiError, type ApiClient, type KubeObject } from '../lib/client';
import { realClock, type Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import { LEASES } from '../lib/resources';
import { rfc3339Micro } from '../lib/time';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** Coxswain's defaults (flags --node-lease-duration-seconds, --node-lease-renew-interval): see kubelet/flags.ts. */
export const NODE_LEASE_DURATION_SECONDS = 8;
export const NODE_LEASE_RENEW_MS = 2_000;

interface Lease extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; acquireTime?: string };
}

/**
 * The node's heartbeat Lease (`coordination.k8s.io/v1`, `kube-node-lease/<node>`),
 * renewed every `renewMs` (2 s by default, a quarter of its 8 s duration) as
 * kubelet's nodelease controller does (10 s and 40 s there); the Node is its
 * owner, so the Lease goes with the Node. Creates the namespace when missing.
 */
export class NodeLease {
  private timer?: unknown;
  private stopped = false;

  constructor(
    private readonly client: ApiClient,
    private readonly nodeName: string,
    private readonly log: Logger,
    private readonly opts: {
      renewMs?: number;
      durationSeconds?: number;
      now?: () => number;
      /** The renewal timer (tests drive it); default real, unref'd timers. */
      clock?: Clock;
      nodeUid?: () => string | undefined;
      /** Called after a renewal that follows failed ones (the apiserver was out of reach): a good moment for a full status write. */
      onRecovered?: () => void;
    } = {},
  ) {}

  private get clock(): Clock {
    return this.opts.clock ?? realClock;
  }

  private get durationSeconds(): number {
    return this.opts.durationSeconds ?? NODE_LEASE_DURATION_SECONDS;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** One renewal: update renewTime, or create the Lease (and its namespace). */
  async renew(): Promise<void> {
    const renewTime = rfc3339Micro(this.now());
    try {
      await this.client.patch(LEASES, this.nodeName, { spec: { holderIdentity: this.nodeName, leaseDurationSeconds: this.durationSeconds, renewTime } }, { namespace: NODE_LEASE_NAMESPACE, type: 'merge' });
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.notFound)) throw err;
    }
    const uid = this.opts.nodeUid?.();
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.nodeName,
        namespace: NODE_LEASE_NAMESPACE,
        ...(uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid }] } : {}),
      },
      spec: { holderIdentity: this.nodeName, leaseDurationSeconds: this.durationSeconds, renewTime, acquireTime: renewTime },
    };
    try {
      await this.client.create(LEASES, lease, NODE_LEASE_NAMESPACE);
    } catch (err) {
      if (!(err instanceof ApiError && err.notFound)) throw err;
      // The namespace does not exist yet.
      await this.client.create({ group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NODE_LEASE_NAMESPACE } }).catch((e) => {
        if (!(e instanceof ApiError && e.code === 409)) throw e;
      });
      await this.client.create(LEASES, lease, NODE_LEASE_NAMESPACE);
    }
  }

  start(): void {
    const every = this.opts.renewMs ?? NODE_LEASE_RENEW_MS;
    let failing = false;
    const tick = async () => {
      try {
        await this.renew();
        if (failing) this.opts.onRecovered?.();
        failing = false;
      } catch (err) {
        failing = true;
        this.log.warn({ err: (err as Error).message }, 'node lease renewal failed');
      }
      if (!this.stopped) this.timer = this.clock.setTimeout(() => void tick(), every);
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
  }
}
