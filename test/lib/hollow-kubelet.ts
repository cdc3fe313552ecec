/**
 * The pod side of hollow nodes (kubemark's hollow kubelet, in miniature): pods
 * bound to a hollow node are reported Running and Ready at once, and a pod
 * being deleted there is confirmed gone (deleted with grace 0), as a kubelet
 * does once its containers stopped. Nothing runs. Lets a control-plane test
 * see pods on many nodes come and go.
 */
import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError, type ApiClient, type KubeObject } from '../../lib/client';
import { Informer } from '../../lib/informer';
import { PODS } from '../../lib/resources';
import { rfc3339 } from '../../lib/time';

export class HollowKubelet {
  private readonly informer: Informer<Pod & KubeObject>;
  private readonly nodes: Set<string>;

  constructor(private readonly client: ApiClient, nodes: string[]) {
    this.nodes = new Set(nodes);
    this.informer = new Informer<Pod & KubeObject>(client, PODS);
    const on = (p: Pod & KubeObject) => void this.handle(p).catch(() => undefined);
    this.informer.on({ add: on, update: (_o, p) => on(p) });
  }

  addNode(name: string): void {
    this.nodes.add(name);
    for (const p of this.informer.list()) void this.handle(p).catch(() => undefined);
  }

  start(): Promise<void> {
    return this.informer.start();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  private async handle(p: Pod & KubeObject): Promise<void> {
    const node = p.spec?.nodeName;
    if (!node || !this.nodes.has(node)) return;
    const ns = p.metadata?.namespace;
    const name = p.metadata!.name!;
    if (p.metadata?.deletionTimestamp) {
      try {
        await this.client.delete(PODS, name, { namespace: ns, gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } });
      } catch (err) {
        if (!(err instanceof ApiError && (err.notFound || err.conflict))) throw err;
      }
      return;
    }
    if (p.status?.phase && p.status.phase !== 'Pending') return; // Running already, or finished (a test may fail a pod)
    const t = rfc3339(Date.now());
    await this.client.patch(PODS, name, {
      status: {
        phase: 'Running',
        hostIP: '127.0.9.1',
        startTime: t,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
          { type: 'Initialized', status: 'True', lastTransitionTime: t },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
          { type: 'Ready', status: 'True', lastTransitionTime: t },
        ],
      },
    }, { namespace: ns, subresource: 'status', type: 'merge' });
  }
}
