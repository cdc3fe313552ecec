import https from 'node:https';
import http from 'node:http';
import { URL } from 'node:url';
import type { ObjectMeta } from 'kubernetes-types/meta/v1';
import { loadKubeconfig, type ClientConfig } from './kubeconfig';
import { ndjsonLines } from './ndjson';
import { resourcePath, type ResourceRef } from './resources';
import { userAgent } from './user-agent';

/** Any Kubernetes object: the client is generic over kinds. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface ObjectList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

/** A non-2xx answer from the apiserver, carrying its metav1.Status when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly status?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  get notFound(): boolean {
    return this.code === 404;
  }
  get conflict(): boolean {
    return this.code === 409;
  }
  get expired(): boolean {
    return this.code === 410;
  }
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
  /** Milliseconds before the request is abandoned (not for watches). Default 30 s. */
  timeoutMs?: number;
  /** Sent even while writes are fenced (the leader Lease's own requests); see `ApiClient.fenceWrites`. */
  unfenced?: boolean;
}

/** Thrown, without anything sent, for a write while the client's write fence is closed. */
export class FencedWriteError extends Error {
  constructor(method: string, path: string, reason: string) {
    super(`${method} ${path}: not sent: ${reason}`);
    this.name = 'FencedWriteError';
  }
}

const USER_AGENT = userAgent();
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
}

export interface WatchOptions extends ListOptions {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

function queryString(q: RequestOptions['query']): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === '') continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function toApiError(code: number, body: string, method: string, path: string): ApiError {
  try {
    const s = JSON.parse(body) as Record<string, unknown>;
    if (s && s.kind === 'Status') {
      return new ApiError(code, String(s.reason ?? ''), String(s.message ?? `${method} ${path}: HTTP ${code}`), s);
    }
  } catch {
    // not a Status: fall through
  }
  return new ApiError(code, '', `${method} ${path}: HTTP ${code}${body ? `: ${body.slice(0, 300)}` : ''}`);
}

/**
 * A small typed-by-resource client for the Kubernetes REST API (Coxswain's or
 * a real one). One instance keeps one keep-alive connection pool; it is safe to
 * share across a process.
 */
export class ApiClient {
  readonly server: URL;
  readonly defaultNamespace: string;
  private readonly agent: http.Agent;
  private readonly token?: string;
  private fence?: { open: () => boolean; reason: string };

  constructor(readonly config: ClientConfig) {
    this.server = new URL(config.server);
    this.defaultNamespace = config.namespace ?? 'default';
    this.token = config.token;
    this.agent =
      this.server.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            maxSockets: 64,
            ca: config.ca,
            cert: config.cert,
            key: config.key,
            rejectUnauthorized: !config.insecureSkipTLSVerify,
          })
        : new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  static fromKubeconfig(file?: string, context?: string): ApiClient {
    return new ApiClient(loadKubeconfig(file, context));
  }

  /**
   * From now on, every request but a read (and those marked `unfenced`) is sent
   * only while `open()` is true, checked right before its bytes go out (once the
   * connection is up, so a TLS handshake that outlasts the fence does not leak
   * a write); otherwise it fails with FencedWriteError. A process that may act
   * only as leader fences its client with its elector.
   */
  fenceWrites(open: () => boolean, reason: string): void {
    this.fence = { open, reason };
  }

  /** Closes idle connections; in-flight requests finish. */
  close(): void {
    this.agent.destroy();
  }

  private open(method: string, path: string, opts: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(path + queryString(opts.query), this.server);
    const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json', 'User-Agent': USER_AGENT };
    const fence = opts.unfenced || READS.has(method) ? undefined : this.fence;
    if (fence && !fence.open()) return Promise.reject(new FencedWriteError(method, path, fence.reason));
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent: this.agent, signal: opts.signal }, resolve);
      req.on('error', reject);
      if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
        req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`${method} ${path}: timed out after ${opts.timeoutMs} ms`)));
      }
      if (!fence) return void req.end(payload);
      // Headers and body leave with end(): check the fence again just before, on a ready connection.
      const send = () => (fence.open() ? req.end(payload) : req.destroy(new FencedWriteError(method, path, fence.reason)));
      req.once('socket', (socket) => {
        if (req.reusedSocket) send();
        else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', send);
      });
    });
  }

  /** Sends one request and parses the JSON answer; throws ApiError on non-2xx. */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.open(method, path, { timeoutMs: 30_000, ...opts });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) throw toApiError(code, text, method, path);
    if (text.length === 0) return undefined as T;
    const ct = String(res.headers['content-type'] ?? '');
    return (ct.includes('json') ? JSON.parse(text) : text) as T;
  }

  /** Sends a request and returns the raw response stream (logs, watches). Throws ApiError on non-2xx. */
  async stream(method: string, path: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    const res = await this.open(method, path, opts);
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw toApiError(code, Buffer.concat(chunks).toString('utf8'), method, path);
    }
    return res;
  }

  private ns(ref: ResourceRef, namespace?: string): string | undefined {
    return ref.namespaced ? (namespace ?? this.defaultNamespace) : undefined;
  }

  get<T extends KubeObject>(ref: ResourceRef, name: string, namespace?: string): Promise<T> {
    return this.request<T>('GET', resourcePath(ref, { namespace: this.ns(ref, namespace), name }));
  }

  /** Returns the object, or undefined when it does not exist. */
  async tryGet<T extends KubeObject>(ref: ResourceRef, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.get<T>(ref, name, namespace);
    } catch (err) {
      if (err instanceof ApiError && err.notFound) return undefined;
      throw err;
    }
  }

  /** Lists a collection; a namespaced resource without `namespace` lists all namespaces. */
  list<T extends KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>('GET', resourcePath(ref, { namespace: opts.namespace }), {
      query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, resourceVersion: opts.resourceVersion },
    });
  }

  create<T extends KubeObject>(ref: ResourceRef, obj: T, namespace?: string): Promise<T> {
    const ns = this.ns(ref, namespace ?? obj.metadata?.namespace);
    return this.request<T>('POST', resourcePath(ref, { namespace: ns }), { body: obj });
  }

  /** PUT of the whole object (optimistic concurrency on metadata.resourceVersion). */
  update<T extends KubeObject>(ref: ResourceRef, obj: T, subresource?: 'status' | 'scale'): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new Error('update: metadata.name is required');
    const ns = this.ns(ref, obj.metadata?.namespace);
    return this.request<T>('PUT', resourcePath(ref, { namespace: ns, name, subresource }), { body: obj });
  }

  updateStatus<T extends KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.update(ref, obj, 'status');
  }

  patch<T extends KubeObject>(
    ref: ResourceRef,
    name: string,
    patch: unknown,
    opts: { namespace?: string; type?: PatchType; subresource?: string; fieldManager?: string; force?: boolean } = {},
  ): Promise<T> {
    const type = opts.type ?? 'merge';
    return this.request<T>('PATCH', resourcePath(ref, { namespace: this.ns(ref, opts.namespace), name, subresource: opts.subresource }), {
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
      query: { fieldManager: opts.fieldManager ?? (type === 'apply' ? 'coxswain' : undefined), force: opts.force },
    });
  }

  /** Deletes an object; resolves to undefined when it was already gone and `ignoreNotFound` is set. */
  async delete(
    ref: ResourceRef,
    name: string,
    opts: { namespace?: string; gracePeriodSeconds?: number; propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; ignoreNotFound?: boolean; preconditions?: { uid?: string; resourceVersion?: string } } = {},
  ): Promise<KubeObject | undefined> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    try {
      return await this.request<KubeObject>('DELETE', resourcePath(ref, { namespace: this.ns(ref, opts.namespace), name }), { body });
    } catch (err) {
      if (opts.ignoreNotFound && err instanceof ApiError && err.notFound) return undefined;
      throw err;
    }
  }

  /**
   * Opens a watch and calls `onEvent` for each event until the server ends the
   * stream, `signal` aborts, or the connection breaks. Resolves when the stream
   * ends normally (also on abort); rejects with ApiError (e.g. 410 Expired) when
   * the server refuses the watch, or with the network error. An ERROR event is
   * passed to `onEvent` like any other.
   */
  async watch<T extends KubeObject>(ref: ResourceRef, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void): Promise<void> {
    let res: http.IncomingMessage;
    try {
      res = await this.stream('GET', resourcePath(ref, { namespace: opts.namespace }), {
        query: {
          watch: 'true',
          resourceVersion: opts.resourceVersion,
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
          allowWatchBookmarks: opts.allowWatchBookmarks,
          timeoutSeconds: opts.timeoutSeconds,
        },
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    try {
      for await (const line of ndjsonLines(res)) onEvent(JSON.parse(line) as WatchEvent<T>);
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
  }
}
