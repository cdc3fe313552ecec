import net from 'node:net';
import type { Backend, ListenerSpec, ServicePortKey } from './desired';
import type { Listener, ListenerContext } from './listener';
import { targetLabels } from './metrics';

interface Conn {
  client: net.Socket;
  backend?: net.Socket;
}

type Labels = { service: string; port: string; protocol: string };

/** A Service port's metric children, looked up once per target instead of hashing labels several times per connection. */
interface Meters {
  target: ServicePortKey;
  labels: Labels;
  connections: { inc(): void };
  active: { inc(): void; dec(): void };
  bytesIn: { inc(v: number): void };
  bytesOut: { inc(v: number): void };
}

/**
 * Connects to a backend; rejects on refusal, error or timeout. Both sides of a
 * proxied connection have TCP_NODELAY (Go's default, which kube-proxy had): the
 * proxy passes each chunk on as it comes, and Nagle would hold back the small
 * writes of request/response protocols.
 */
export function dial(b: Backend, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: b.ip, port: b.port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => s.destroy(new Error(`connect to ${b.ip}:${b.port} timed out after ${timeoutMs} ms`)), timeoutMs);
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    s.once('error', onError);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', onError);
      resolve(s);
    });
  });
}

/**
 * A userspace TCP proxy socket: each accepted connection is spliced to one
 * backend, trying the balancer's candidates in order until one accepts. Data
 * flows both ways; a FIN from either side is passed on as a FIN (half-close),
 * an error or reset on either side destroys both.
 */
export class TcpListener implements Listener {
  target: ServicePortKey;
  private server?: net.Server;
  private readonly conns = new Set<Conn>();
  private closed = false;

  constructor(
    readonly spec: ListenerSpec,
    private readonly ctx: ListenerContext,
  ) {
    this.target = spec.target;
  }

  get activeConnections(): number {
    return this.conns.size;
  }

  listen(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('listener closed'));
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (sock) => this.accept(sock));
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        server.close();
        reject(err);
      };
      server.once('error', onError);
      server.listen({ host: this.spec.address, port: this.spec.port }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.ctx.logger.warn({ listener: this.spec.key, err: err.message }, 'listener error'));
        if (this.closed) {
          server.close();
          return reject(new Error('listener closed'));
        }
        this.server = server;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const server = this.server;
    this.server = undefined;
    for (const c of this.conns) {
      c.client.destroy();
      c.backend?.destroy();
    }
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private meters?: Meters;

  private metersFor(): Meters {
    if (this.meters?.target !== this.target) {
      const { metrics } = this.ctx;
      const labels = { ...targetLabels(this.target), protocol: 'TCP' };
      this.meters = {
        target: this.target,
        labels,
        connections: metrics.connections.labels(labels),
        active: metrics.activeConnections.labels(labels),
        bytesIn: metrics.bytes.labels({ ...labels, direction: 'in' }),
        bytesOut: metrics.bytes.labels({ ...labels, direction: 'out' }),
      };
    }
    return this.meters;
  }

  private accept(client: net.Socket): void {
    if (this.closed) {
      client.destroy();
      return;
    }
    const { metrics, logger } = this.ctx;
    const m = this.metersFor();
    const labels = m.labels;
    m.connections.inc();
    const conn: Conn = { client };
    this.conns.add(conn);
    m.active.inc();
    let clientGone = false;
    client.on('error', () => {
      clientGone = true;
    });
    client.once('close', () => {
      clientGone = true;
      if (!conn.backend) this.forget(conn, m);
    });

    const all = this.ctx.backends(this.target);
    const admits = this.ctx.admits?.bind(this.ctx);
    const backends = admits ? all.filter((b) => admits(client.remoteAddress ?? '', b, 'TCP')) : all;
    const candidates = this.ctx.balancer.candidates(this.target, backends, client.remoteAddress, this.ctx.maxDialAttempts);
    if (candidates.length === 0) {
      metrics.errors.inc({ ...labels, reason: all.length > 0 ? 'policy_denied' : 'no_endpoints' });
      client.destroy();
      return;
    }
    void (async () => {
      for (const b of candidates) {
        if (clientGone || this.closed) return;
        try {
          const backend = await dial(b, this.ctx.dialTimeoutMs);
          if (clientGone || this.closed) {
            backend.destroy();
            return;
          }
          this.splice(conn, backend, m);
          return;
        } catch (err) {
          logger.debug({ target: this.target, backend: `${b.ip}:${b.port}`, err: (err as Error).message }, 'backend refused; trying next');
        }
      }
      metrics.errors.inc({ ...labels, reason: 'dial_failed' });
      logger.info({ target: this.target, tried: candidates.length }, 'no backend accepted the connection');
      client.destroy();
    })();
  }

  private splice(conn: Conn, backend: net.Socket, m: Meters): void {
    const { client } = conn;
    conn.backend = backend;
    let closedSides = 0;
    const onClose = () => {
      if (++closedSides === 2) this.forget(conn, m);
    };
    const fail = (err: Error & { code?: string }) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') this.ctx.metrics.errors.inc({ ...m.labels, reason: 'stream_error' });
      client.destroy();
      backend.destroy();
    };
    client.on('error', fail);
    backend.on('error', fail);
    // A side that closes with an error (or is destroyed) takes the other with it;
    // a clean close only happens after both FINs, when pipe() has ended the other side.
    client.once('close', (hadError) => {
      if (hadError) backend.destroy();
      onClose();
    });
    backend.once('close', (hadError) => {
      if (hadError) client.destroy();
      onClose();
    });
    client.pipe(backend);
    backend.pipe(client);
    if (client.destroyed) backend.destroy();
  }

  private forget(conn: Conn, m: Meters): void {
    if (!this.conns.delete(conn)) return;
    m.active.dec();
    m.bytesIn.inc(conn.client.bytesRead);
    m.bytesOut.inc(conn.client.bytesWritten);
  }
}

export function tcpListener(spec: ListenerSpec, ctx: ListenerContext): Listener {
  return new TcpListener(spec, ctx);
}
