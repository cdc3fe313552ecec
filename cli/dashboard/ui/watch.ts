/**
 * Live lists: one informer per collection path (e.g. /api/v1/pods), shared by
 * every view that shows it. An informer lists, then watches from the list's
 * resourceVersion with bookmarks (through the dashboard's WebSocket relay); it re-lists when the server answers 410 Gone
 * (or sends an ERROR event with code 410), re-watches from the last version
 * when a watch ends, and backs off (up to 10 s) after a failure.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, errorFrom } from './api';
import type { KubeObject } from './types';

interface WatchLine {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: number; message?: string };
}

export interface ListState<T> {
  items: T[];
  /** True until the first list has arrived. */
  loading: boolean;
  /** The last failure, cleared by the next successful list. */
  error?: string;
}

class Gone extends Error {}

const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function byNamespaceAndName(a: KubeObject, b: KubeObject): number {
  return (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name);
}

class Informer {
  private readonly objects = new Map<string, KubeObject>();
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();
  private resourceVersion = '';
  private notifyTimer?: ReturnType<typeof setTimeout>;
  state: ListState<KubeObject> = { items: [], loading: true };
  users = 0;
  stopTimer?: ReturnType<typeof setTimeout>;

  constructor(private readonly path: string) {
    void this.run();
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  stop(): void {
    this.abort.abort();
    clearTimeout(this.notifyTimer);
  }

  /** Views re-render at most every 100 ms however many events arrive. */
  private changed(now = false): void {
    if (this.notifyTimer && !now) return;
    clearTimeout(this.notifyTimer);
    const flush = () => {
      this.notifyTimer = undefined;
      this.state = { items: [...this.objects.values()].sort(byNamespaceAndName), loading: false, error: this.state.error };
      for (const fn of this.listeners) fn();
    };
    if (now) flush();
    else this.notifyTimer = setTimeout(flush, 100);
  }

  private async list(): Promise<void> {
    const res = await fetch(this.path, { headers: { accept: 'application/json' }, signal: this.abort.signal });
    if (!res.ok) throw await errorFrom(res);
    const list = (await res.json()) as { metadata: { resourceVersion?: string }; items: KubeObject[] };
    this.objects.clear();
    for (const o of list.items) this.objects.set(key(o), o);
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    this.state.error = undefined;
    this.changed(true);
  }

  /**
   * Watches from the last resourceVersion until the stream ends (resolves) or fails (rejects; Gone for 410).
   * The watch goes over the dashboard's /watch WebSocket relay, since a browser allows only six
   * HTTP connections to a host and a page holds a watch per list.
   */
  private watch(): Promise<void> {
    const sep = this.path.includes('?') ? '&' : '?';
    const target = `${this.path}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(this.resourceVersion)}`;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`${proto}://${location.host}/watch?path=${encodeURIComponent(target)}`);
      let failure: Error | undefined;
      const onAbort = () => ws.close();
      this.abort.signal.addEventListener('abort', onAbort);
      ws.onmessage = (msg) => {
        if (failure) return;
        const ev = JSON.parse(String(msg.data)) as WatchLine;
        if (ev.type === 'ERROR') {
          failure = ev.object.code === 410 ? new Gone() : new ApiError(ev.object.code ?? 0, '', ev.object.message ?? 'watch error');
          ws.close();
          return;
        }
        const rv = ev.object.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (ev.type === 'BOOKMARK') return;
        if (ev.type === 'DELETED') this.objects.delete(key(ev.object));
        else this.objects.set(key(ev.object), ev.object);
        this.changed();
      };
      ws.onclose = (ev) => {
        this.abort.signal.removeEventListener('abort', onAbort);
        if (failure) reject(failure);
        else if (ev.code === 1000) resolve();
        else reject(new Error(`the watch connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`));
      };
    });
  }

  private async run(): Promise<void> {
    let backoff = 500;
    let needList = true;
    while (!this.abort.signal.aborted) {
      try {
        if (needList) await this.list();
        needList = false;
        backoff = 500;
        await this.watch();
      } catch (err) {
        if (this.abort.signal.aborted) return;
        if (err instanceof Gone) {
          needList = true;
          continue;
        }
        needList = true;
        this.state.error = (err as Error).message;
        this.changed(true);
        // Refused or unknown (RBAC, no such API): that will not change soon.
        const code = err instanceof ApiError ? err.code : 0;
        await new Promise((r) => setTimeout(r, code === 403 || code === 404 ? 30_000 : backoff));
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }
}

const informers = new Map<string, Informer>();

/** The live contents of the collection at `path` (undefined: none); re-renders the caller on every change. */
export function useList<T extends KubeObject>(path: string | undefined): ListState<T> {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let inf = informers.get(path);
    if (!inf) informers.set(path, (inf = new Informer(path)));
    clearTimeout(inf.stopTimer);
    inf.users++;
    const unsubscribe = inf.subscribe(() => setTick((t) => t + 1));
    setTick((t) => t + 1);
    const it = inf;
    return () => {
      unsubscribe();
      // Keep a collection warm for a while: moving between pages should not re-list.
      if (--it.users === 0) {
        it.stopTimer = setTimeout(() => {
          it.stop();
          informers.delete(path);
        }, 30_000);
      }
    };
  }, [path]);
  const inf = path ? informers.get(path) : undefined;
  return (inf?.state as ListState<T> | undefined) ?? { items: [], loading: !!path };
}
