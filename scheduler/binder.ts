import type { Pod } from 'kubernetes-types/core/v1';
import type { ApiClient } from '../lib/client';
import { PODS, resourcePath } from '../lib/resources';

/** POSTs the pod's Binding to `nodeName` (pods/binding, with the pod's uid as a precondition). */
export async function bindPod(client: ApiClient, pod: Pod, nodeName: string): Promise<void> {
  const { name, namespace, uid } = pod.metadata ?? {};
  await client.request('POST', resourcePath(PODS, { namespace, name, subresource: 'binding' }), {
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, ...(uid ? { uid } : {}) }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
  });
}

/**
 * Runs background tasks (bindings, status writes) with at most `limit` in flight; more wait
 * in order. A task's rejection is its own business: tasks must catch their errors.
 */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => Promise<void>)[] = [];
  private idle: (() => void)[] = [];
  private roomWaiters: (() => void)[] = [];

  constructor(readonly limit = 16) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  run(task: () => Promise<void>): void {
    if (this.running >= this.limit) this.waiting.push(task);
    else this.start(task);
  }

  private start(task: () => Promise<void>): void {
    this.running++;
    void Promise.resolve()
      .then(task)
      .catch(() => undefined)
      .finally(() => {
        this.running--;
        const next = this.waiting.shift();
        if (next) this.start(next);
        else if (this.running === 0) for (const r of this.idle.splice(0)) r();
        if (this.waiting.length === 0) for (const r of this.roomWaiters.splice(0)) r();
      });
  }

  /** Resolves once no task waits for a free slot (back-pressure for whoever hands out tasks). */
  room(): Promise<void> {
    if (this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  /** Resolves once nothing runs or waits. */
  drain(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }
}
