import type { Event } from 'kubernetes-types/core/v1';
import type { ApiClient, KubeObject } from './client';
import type { Logger } from './log';
import { EVENTS } from './resources';
import { rfc3339 } from './time';

export type EventType = 'Normal' | 'Warning';

interface Seen {
  name: string;
  namespace: string;
  count: number;
}

/**
 * Records core/v1 Events about objects, best-effort: `event()` never throws and
 * never blocks the caller (the write happens in the background). A repeat of
 * the same (object, type, reason, message) bumps `count` and `lastTimestamp`
 * of the existing Event instead of creating a new one, as client-go's
 * EventCorrelator does. Writes for one aggregation key are serialized.
 */
export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly maxEntries: number;

  constructor(
    private readonly client: ApiClient,
    private readonly component: string,
    private readonly opts: { host?: string; logger?: Logger; now?: () => Date; maxEntries?: number } = {},
  ) {
    this.maxEntries = opts.maxEntries ?? 4096;
  }

  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const m = obj.metadata ?? {};
    const key = [m.uid ?? `${m.namespace}/${m.name}`, type, reason, message].join('\u0000');
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.write(key, obj, type, reason, message)).catch((err) => {
      this.opts.logger?.debug({ err: (err as Error).message, reason }, 'event not recorded');
    });
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Resolves when every event recorded so far has been written (or failed). */
  async flush(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private async write(key: string, obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = rfc3339(this.opts.now?.() ?? new Date());
    const m = obj.metadata ?? {};
    const seen = this.seen.get(key);
    if (seen) {
      try {
        await this.client.patch(EVENTS, seen.name, { count: seen.count + 1, lastTimestamp: now }, { namespace: seen.namespace, type: 'merge' });
        seen.count++;
        return;
      } catch {
        this.seen.delete(key);
        // the Event expired or was deleted: create a fresh one below
      }
    }
    const namespace = m.namespace ?? 'default';
    const name = `${m.name ?? 'unknown'}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0')}`;
    const ev: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.component, ...(this.opts.host ? { host: this.opts.host } : {}) },
      reportingComponent: this.component,
      reportingInstance: this.opts.host ?? '',
    };
    await this.client.create(EVENTS, ev as unknown as KubeObject, namespace);
    if (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(key, { name, namespace, count: 1 });
  }
}
