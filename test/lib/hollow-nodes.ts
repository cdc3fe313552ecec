/**
 * Hollow nodes (in the spirit of kubemark's): real Node objects and node
 * Leases with no kubelet behind them. The test keeps their heartbeats fresh
 * (Lease renewal and Ready condition) until it silences one, so the control
 * plane sees live nodes that can take pods (which stay Pending there: nothing
 * runs them).
 */
import type { Node, NodeCondition } from 'kubernetes-types/core/v1';
import { ApiError, type ApiClient, type KubeObject } from '../../lib/client';
import { LEASES, NODES } from '../../lib/resources';
import { rfc3339, rfc3339Micro } from '../../lib/time';

const LEASE_NS = 'kube-node-lease';

function readyConditions(now: number): NodeCondition[] {
  const t = rfc3339(now);
  return [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: t, lastTransitionTime: t },
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'hollow node', lastHeartbeatTime: t, lastTransitionTime: t },
  ];
}

export class HollowNodes {
  private readonly silent = new Set<string>();
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;

  constructor(private readonly client: ApiClient, readonly names: string[], private readonly opts: { everyMs?: number; cordoned?: boolean } = {}) {}

  /** Creates the Nodes (Ready, room for 110 pods; cordoned if asked) and their Leases, then heartbeats every `everyMs` (1 s). */
  async start(): Promise<void> {
    for (const [i, name] of this.names.entries()) {
      await this.client.create<Node & KubeObject>(NODES, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'coxswain.test/hollow': 'true' } },
        ...(this.opts.cordoned ? { spec: { unschedulable: true } } : {}),
      } as Node & KubeObject);
      await this.client.patch(NODES, name, {
        status: {
          capacity: { cpu: '4', memory: '8Gi', pods: '110' },
          allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
          addresses: [{ type: 'InternalIP', address: `127.0.9.${i + 1}` }, { type: 'Hostname', address: name }],
          conditions: readyConditions(Date.now()),
        },
      }, { subresource: 'status', type: 'merge' });
    }
    await this.beat();
    const every = this.opts.everyMs ?? 1_000;
    const tick = () => {
      this.beating = this.beat().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, every);
      });
    };
    this.timer = setTimeout(tick, every);
  }

  /** Stops the heartbeats of `name` (a host gone silent). */
  silence(name: string): void {
    this.silent.add(name);
  }

  /** Heartbeats of `name` again, Ready True (a host back). */
  resume(name: string): void {
    this.silent.delete(name);
  }

  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = undefined;
    if (t) clearTimeout(t);
    await this.beating;
  }

  /** Renews every live hollow node's Lease and Ready heartbeat. */
  private async beat(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      this.names.filter((n) => !this.silent.has(n)).map(async (name) => {
        try {
          await this.renewLease(name, now);
          await this.client.patch(NODES, name, { status: { conditions: readyConditions(now) } }, { subresource: 'status', type: 'merge' });
        } catch {
          // the next beat tries again; a missed one is what the grace period is for
        }
      }),
    );
  }

  private async renewLease(name: string, now: number): Promise<void> {
    const spec = { holderIdentity: name, leaseDurationSeconds: 8, renewTime: rfc3339Micro(now) };
    try {
      await this.client.patch(LEASES, name, { spec }, { namespace: LEASE_NS, type: 'merge' });
    } catch (err) {
      if (!(err instanceof ApiError && err.notFound)) throw err;
      await this.client.create(LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: LEASE_NS }, spec } as KubeObject, LEASE_NS);
    }
  }
}
