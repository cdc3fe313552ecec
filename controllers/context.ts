import type { ApiClient, KubeObject } from '../lib/client';
import { Informer } from '../lib/informer';
import type { EventRecorder } from '../lib/events';
import type { Logger } from '../lib/log';
import type { ResourceRef } from '../lib/resources';
import type { ControllerMetrics } from '../lib/reconcile/metrics';

/** One informer per resource for the whole process, shared by every controller. */
export class SharedInformers {
  private readonly informers = new Map<string, Informer<KubeObject>>();

  constructor(private readonly client: ApiClient, private readonly logger?: Logger) {}

  for<T extends KubeObject>(ref: ResourceRef): Informer<T> {
    const k = `${ref.group}/${ref.resource}`;
    let inf = this.informers.get(k);
    if (!inf) {
      inf = new Informer<KubeObject>(this.client, ref, { logger: this.logger });
      this.informers.set(k, inf);
    }
    return inf as unknown as Informer<T>;
  }

  /** Starts every informer requested so far; resolves when all have listed once. */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}

/** Everything a controller is built from; main.ts builds one for the process. */
export interface ControllerContext {
  client: ApiClient;
  informers: SharedInformers;
  recorder: EventRecorder;
  logger: Logger;
  metrics: ControllerMetrics;
  /** Wall clock in ms (injectable). */
  now(): number;
}

/** A controller as main.ts sees it. */
export interface RunnableController {
  readonly name: string;
  /** Called after informers synced. */
  start(): void;
  stop(): Promise<void>;
}

/** `namespace/name` of a namespaced object. */
export function nsKey(namespace: string | undefined, name: string | undefined): string {
  return namespace ? `${namespace}/${name}` : `${name}`;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
