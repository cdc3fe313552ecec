import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../errors';
import { apiVersionOf } from '../registry';
import { toTable } from '../tables';
import type { CacheEvent, CachedObject, WatchCache } from '../watchcache';
import type { ApiObject } from '../api-object';
import { JSON_TYPE, type ResourceRequest } from './context';
import { type Filter, buildFilter, matches } from './filter';
import { type WatchParams, watchParams } from './options';
import { toServed } from './respond';

/**
 * GET with watch: a chunked stream of `{"type":…,"object":…}` lines from the watch cache,
 * filtered by the request's selectors, ending at `timeoutSeconds`, when either side closes,
 * or when the client reads too slowly.
 */
export async function handleWatch(r: ResourceRequest): Promise<void> {
  const f = buildFilter(r.def, r.path, r.query);
  const o = watchParams(r.query, r.ctx.minRequestTimeoutSeconds);
  const cache = r.ctx.storage.cache(r.def);
  await cache.waitFor(o.resourceVersion === '' ? r.ctx.storage.lastWriteRevision(r.def) : 0, 3_000);
  if (!cache.isLoaded) throw errors.unavailable('the watch cache is not ready yet');
  const stream = new WatchStream(r.req, r.reply);
  const encode = eventEncoder(r, o);
  // '' or '0': from the cache's current state, with the current objects as ADDED events
  const fromNow = o.resourceVersion === '' || o.resourceVersion === '0';
  const rv = Number(o.resourceVersion);
  // a resourceVersion this cache has not reached: wait a little, then 504 like Kubernetes' watch cache
  if (!fromNow && rv > cache.revision && !(await cache.waitFor(rv, 3_000))) {
    // (in the stream, as Kubernetes' cacher does once a watch is admitted: the reflector re-lists)
    stream.write(encode('ERROR', errors.tooLargeResourceVersion(rv, cache.revision).toStatus()));
    return stream.finish();
  }
  const withInitial = fromNow || o.sendInitialEvents;
  const fromRev = withInitial ? cache.revision : rv;
  const initial = withInitial ? cache.list(f.prefix).filter((c) => matches(f, c.obj)) : [];
  serveFrom(r, cache, f, o, stream, encode, fromRev, initial);
}

/** Subscribes from `fromRev`, sends `initial` and the replay, then live events, bookmarks and the timeout. */
function serveFrom(r: ResourceRequest, cache: WatchCache, f: Filter, o: WatchParams, stream: WatchStream, encode: Encoder, fromRev: number, initial: CachedObject[]): void {
  const onEvent = (ev: CacheEvent, live = true) => {
    if (ev.rv <= fromRev) return;
    const type = eventType(ev, f);
    if (!type) return;
    // a live event's line in the stored version is the same for every watcher: encoded once, shared
    stream.write(live && encode.plain ? sharedLine(ev, type) : encode(type, ev.obj, ev.json));
  };
  const sub = cache.subscribe(fromRev, onEvent, () => stream.finish());
  if (!sub) {
    stream.write(encode('ERROR', errors.expired(`too old resource version: ${fromRev} (${cache.oldestRevision})`).toStatus()));
    return stream.finish();
  }
  stream.onFinish(sub.cancel);
  const bookmark = (rev: number, annotations = '') =>
    `{"type":"BOOKMARK","object":{"kind":"${r.def.kind}","apiVersion":"${apiVersionOf(r.def)}","metadata":{"resourceVersion":"${rev}"${annotations}}}}\n`;
  for (const c of initial) stream.write(encode('ADDED', c.obj, c.json));
  if (o.sendInitialEvents) stream.write(bookmark(fromRev, ',"annotations":{"k8s.io/initial-events-end":"true"}'));
  for (const ev of sub.replay) onEvent(ev, false);
  if (Number.isFinite(o.timeoutSeconds) && o.timeoutSeconds > 0) stream.after(Math.min(o.timeoutSeconds * 1000, 2 ** 31 - 1), () => stream.finish());
  if (o.allowWatchBookmarks && !r.table) stream.every(r.ctx.bookmarkIntervalMs, () => stream.write(bookmark(cache.revision)));
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** What a cache event is to a filtered watch: an object entering the filter is ADDED, one leaving it DELETED. */
function eventType(ev: CacheEvent, f: Filter): EventType | undefined {
  const now = matches(f, ev.obj);
  const before = ev.prev ? matches(f, ev.prev) : false;
  if (ev.type === 'ADDED') return now ? 'ADDED' : undefined;
  if (ev.type === 'MODIFIED') return now && before ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
  return now || before ? 'DELETED' : undefined;
}

/** `plain`: lines are the cached object's JSON as it is (no conversion, no Table), the same for every such watcher. */
type Encoder = ((type: EventType | 'ERROR', obj: unknown, json?: string) => string) & { plain: boolean };

/** A live cache event's lines by type, encoded once for all its watchers; dropped with the event after its dispatch. */
const LINES = new WeakMap<CacheEvent, Partial<Record<EventType, Buffer>>>();

function sharedLine(ev: CacheEvent, type: EventType): Buffer {
  let lines = LINES.get(ev);
  if (!lines) LINES.set(ev, (lines = {}));
  return (lines[type] ??= Buffer.from(`{"type":"${type}","object":${ev.json}}\n`));
}

/** One watch event line: the object in the request's version, or a Table row (headers in the first only). */
function eventEncoder(r: ResourceRequest, o: WatchParams): Encoder {
  const converted = r.served.storageVersion !== undefined;
  let headersSent = false;
  return Object.assign((type: EventType | 'ERROR', obj: unknown, json?: string) => {
    if (type === 'ERROR') return `{"type":"${type}","object":${JSON.stringify(obj)}}\n`;
    if (converted) { obj = toServed(r, obj as ApiObject); json = undefined; } // not an ERROR: a cached object
    if (r.table) {
      const resourceVersion = (obj as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
      const t = toTable(r.def.plural, [obj], { includeObject: o.includeObject, resourceVersion, noHeaders: headersSent });
      headersSent = true;
      return `{"type":"${type}","object":${JSON.stringify(t)}}\n`;
    }
    return `{"type":"${type}","object":${json ?? JSON.stringify(obj)}}\n`;
  }, { plain: !converted && !r.table });
}

/**
 * The hijacked HTTP response of a watch: chunked lines, ended once (timers and subscription
 * released). Lines written in one turn of the event loop leave in one chunk (setImmediate):
 * under load many store events arrive per turn, and a socket write per event per watcher was
 * the apiserver's largest cost.
 */
class WatchStream {
  private readonly raw: FastifyReply['raw'];
  private closed = false;
  private readonly cleanups: (() => void)[] = [];
  private pending: (string | Buffer)[] = [];

  constructor(req: FastifyRequest, reply: FastifyReply) {
    this.raw = reply.raw;
    reply.hijack();
    this.raw.writeHead(200, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked', ...(reply.getHeaders() as Record<string, string>) });
    // Send the headers now, as Kubernetes flushes them: client-go's Watch() returns only once they
    // arrive, so a watch with no events yet must not leave the client waiting (kubectl wait hung).
    this.raw.flushHeaders();
    req.raw.on('close', () => this.finish());
    this.raw.on('close', () => this.finish());
  }

  write(s: string | Buffer): void {
    if (this.closed) return;
    if (this.pending.push(s) === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    if (this.closed || this.pending.length === 0) return;
    const out = this.pending;
    this.pending = [];
    this.raw.write(out.length === 1 ? out[0]! : Buffer.concat(out.map((x) => (typeof x === 'string' ? Buffer.from(x) : x))));
    if (this.raw.writableLength > 32 * 1024 * 1024) this.finish(); // too slow a consumer: drop it, it will re-watch
  }

  onFinish(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  after(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms);
    this.onFinish(() => clearTimeout(t));
  }

  every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    this.onFinish(() => clearInterval(t));
  }

  finish(): void {
    if (this.closed) return;
    if (!this.raw.destroyed) this.flush();
    if (this.closed) return; // the flush found the consumer too slow and finished
    this.closed = true;
    for (const c of this.cleanups) c();
    this.raw.end();
  }
}
