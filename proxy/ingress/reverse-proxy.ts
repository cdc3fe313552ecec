import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { RoundRobin, type Balancer } from '../balancer';
import type { Backend, ServicePortKey } from '../desired';
import { downstreamResponseHeaders, headerValue, upstreamRequestHeaders } from './headers';
import { routeRequest, type BackendRef, type RouteTable } from './routes';

/** A Service port's ready backends, as the proxy knows them; `target` keys round robin. */
export interface ServiceBackends {
  target: ServicePortKey;
  backends: readonly Backend[];
}

/**
 * The one way the Ingress proxy learns backends: a Service port (by number or
 * name) to its ready endpoints; undefined when the Service or the port does
 * not exist. Called per request, so endpoint changes apply at once.
 */
export type BackendLookup = (ref: BackendRef) => ServiceBackends | undefined;

export interface ReverseProxyOptions {
  logger: Logger;
  /** The current route table (read per request). */
  routes(): RouteTable;
  lookup: BackendLookup;
  balancer?: Balancer;
  /** Keep-alive pool to backends; one is made if absent. */
  agent?: http.Agent;
  connectTimeoutMs?: number;
  /** Backends a request without a body tries when a connection fails before it was sent. */
  maxAttempts?: number;
}

export type Proto = 'http' | 'https';

const CONNECT_RETRYABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET']);

/** A keep-alive pool to backends: idle sockets are closed after 4 s (before Node's default 5 s server keep-alive on the other side). */
export function backendAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256, timeout: 4_000, scheduling: 'lifo' });
}

function statusLine(code: number, message?: string): string {
  return `HTTP/1.1 ${code} ${message || http.STATUS_CODES[code] || ''}\r\n`;
}

function rawHeaderLines(raw: readonly string[]): string {
  let s = '';
  for (let i = 0; i < raw.length; i += 2) s += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return s;
}

const ERROR_BODIES: Record<number, string> = {
  404: '404 page not found\n',
  502: '502 Bad Gateway\n',
  503: '503 Service Unavailable\n',
};

/**
 * The Ingress reverse proxy over node:http: routes each request by Host and
 * path, picks a ready backend of the Service round robin, and relays the
 * request and response as streams over pooled keep-alive connections. Upgrade
 * requests (WebSocket) get a connection of their own that is spliced to the
 * client once the backend answers 101. Answers 404 when no rule matches, 503
 * when the Service (or port) does not exist or has no ready endpoint, 502 when
 * the backend cannot be reached or fails mid-response.
 */
export class ReverseProxy {
  private readonly agent: http.Agent;
  private readonly balancer: Balancer;
  private readonly tunnels = new Set<Duplex>();

  constructor(private readonly opts: ReverseProxyOptions) {
    this.agent = opts.agent ?? backendAgent();
    this.balancer = opts.balancer ?? new RoundRobin();
  }

  /** The backends to try for a request, or the status to answer with. */
  private pick(req: http.IncomingMessage, max: number): { backends: Backend[]; ref: BackendRef } | { status: 404 | 503; why: string } {
    const m = routeRequest(this.opts.routes(), req.headers.host, req.url);
    if (!m) return { status: 404, why: 'no rule matches' };
    const svc = this.opts.lookup(m.backend);
    const name = `${m.backend.namespace}/${m.backend.service}:${m.backend.port.name ?? m.backend.port.number}`;
    if (!svc) return { status: 503, why: `service port ${name} does not exist` };
    const backends = this.balancer.candidates(svc.target, svc.backends, undefined, max);
    if (!backends.length) return { status: 503, why: `service port ${name} has no ready endpoint` };
    return { backends, ref: m.backend };
  }

  /** The 'request' handler of the HTTP and HTTPS servers. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, proto: Proto): void {
    const bodyless = req.headers['content-length'] === undefined || req.headers['content-length'] === '0';
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const picked = this.pick(req, bodyless && !chunked ? (this.opts.maxAttempts ?? 3) : 1);
    if ('status' in picked) {
      this.opts.logger.debug({ host: req.headers.host, url: req.url, status: picked.status, why: picked.why }, 'ingress request not routed');
      req.resume();
      this.reply(res, picked.status);
      return;
    }
    const headers = upstreamRequestHeaders(req.rawHeaders, { clientAddress: req.socket.remoteAddress ?? '', proto, localPort: req.socket.localPort ?? 0 });
    if (chunked) headers.push('Transfer-Encoding', 'chunked');
    this.forward(req, res, headers, picked.backends, 0, bodyless && !chunked);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, headers: string[], backends: Backend[], attempt: number, replayable: boolean): void {
    const b = backends[attempt]!;
    const up = http.request({
      host: b.ip,
      port: b.port,
      method: req.method,
      path: req.url,
      headers,
      agent: this.agent,
      setHost: headerValue(req.rawHeaders, 'host') === undefined,
    });
    const connected = this.connectDeadline(up);
    up.on('response', (ur) => {
      if (res.destroyed) {
        ur.destroy();
        return;
      }
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, downstreamResponseHeaders(ur.rawHeaders));
      ur.pipe(res);
      ur.on('error', () => res.destroy());
      ur.on('aborted', () => res.destroy());
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      const unsent = !connected() || up.reusedSocket;
      if (replayable && unsent && CONNECT_RETRYABLE.has(err.code ?? '') && attempt + 1 < backends.length && !res.headersSent && !res.destroyed) {
        this.forward(req, res, headers, backends, attempt + 1, replayable);
        return;
      }
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      this.opts.logger.warn({ backend: `${b.ip}:${b.port}`, host: req.headers.host, url: req.url, err: err.message }, 'ingress backend failed');
      this.reply(res, 502);
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    if (replayable) {
      if (attempt === 0) req.resume();
      up.end();
    } else {
      req.pipe(up);
    }
  }

  /** Fails the request if the backend does not accept the connection in time; returns whether it connected. */
  private connectDeadline(up: http.ClientRequest): () => boolean {
    let connected = false;
    up.on('socket', (s: net.Socket) => {
      if (!s.connecting) {
        connected = true;
        return;
      }
      const t = setTimeout(() => up.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), this.opts.connectTimeoutMs ?? 5_000);
      s.once('connect', () => {
        connected = true;
        clearTimeout(t);
      });
      s.once('close', () => clearTimeout(t));
    });
    return () => connected;
  }

  private reply(res: http.ServerResponse, status: number): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = ERROR_BODIES[status] ?? `${status}\n`;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** The 'upgrade' handler: relays the upgrade request and, on 101, splices the two connections. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, proto: Proto): void {
    socket.on('error', () => socket.destroy());
    const picked = this.pick(req, 1);
    if ('status' in picked) {
      this.rawReply(socket, picked.status);
      return;
    }
    const b = picked.backends[0]!;
    const headers = upstreamRequestHeaders(req.rawHeaders, {
      clientAddress: req.socket.remoteAddress ?? '',
      proto,
      localPort: req.socket.localPort ?? 0,
      upgrade: req.headers.upgrade ?? 'websocket',
    });
    const up = http.request({ host: b.ip, port: b.port, method: req.method, path: req.url, headers, agent: false, setHost: headerValue(req.rawHeaders, 'host') === undefined });
    this.connectDeadline(up);
    up.on('upgrade', (ur, us, uhead) => {
      if (socket.destroyed) {
        us.destroy();
        return;
      }
      socket.write(statusLine(101, ur.statusMessage) + rawHeaderLines(ur.rawHeaders) + '\r\n');
      if (uhead.length) socket.write(uhead);
      if (head.length) us.write(head);
      (us as net.Socket).setNoDelay?.(true);
      (socket as net.Socket).setNoDelay?.(true);
      this.splice(socket, us);
    });
    up.on('response', (ur) => {
      // the backend declined the upgrade: relay its answer and close (the body ends with the connection)
      socket.write(statusLine(ur.statusCode ?? 502, ur.statusMessage) + rawHeaderLines(downstreamResponseHeaders(ur.rawHeaders)) + 'Connection: close\r\n\r\n');
      ur.pipe(socket);
    });
    up.on('error', (err) => {
      this.opts.logger.warn({ backend: `${b.ip}:${b.port}`, host: req.headers.host, url: req.url, err: err.message }, 'ingress upgrade to backend failed');
      this.rawReply(socket, 502);
    });
    socket.on('close', () => up.destroy());
    up.end();
  }

  private splice(a: Duplex, b: Duplex): void {
    this.tunnels.add(a).add(b);
    const done = () => {
      this.tunnels.delete(a);
      this.tunnels.delete(b);
      a.destroy();
      b.destroy();
    };
    a.on('error', done).on('close', done);
    b.on('error', done).on('close', done);
    a.pipe(b);
    b.pipe(a);
  }

  private rawReply(socket: Duplex, status: number): void {
    if (socket.destroyed || !socket.writable) return;
    const body = ERROR_BODIES[status] ?? `${status}\n`;
    socket.end(statusLine(status) + `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` + body);
  }

  /** Upgraded connections currently spliced (each counts both ends). */
  get activeTunnels(): number {
    return this.tunnels.size;
  }

  /** Drops spliced upgrade connections and the idle backend pool. */
  close(): void {
    for (const t of this.tunnels) t.destroy();
    this.tunnels.clear();
    this.agent.destroy();
  }
}
