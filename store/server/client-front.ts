/**
 * The client port's listener: accepts TCP itself and hands every connection to
 * grpc-js (`Server.createConnectionInjector`) through a Duplex that rewrites
 * the client→server HTTP/2 stream with AuthorityRewriter (h2-authority.ts), so
 * `:authority: http://host:port` (etcdctl 3.4 `endpoint status|health` with an
 * http:// endpoint) reaches grpc-js instead of being reset by nghttp2.
 * Server→client bytes pass through untouched. A connection whose bytes do not
 * parse is closed; nothing here throws into the process.
 */
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../lib/log';
import { AuthorityRewriter, H2FrontError } from './h2-authority';

/** A net.Socket look-alike over a client socket, rewriting what the client sends. */
export class RewritingSocket extends Duplex {
  private readonly rw = new AuthorityRewriter();
  private loggedRewrite = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly log?: Logger,
  ) {
    super({ allowHalfOpen: true });
    socket.on('data', (chunk: Buffer) => {
      let parts: Buffer[];
      try {
        parts = this.rw.push(chunk);
      } catch (e) {
        this.log?.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}`, err: (e as Error).message }, 'client connection closed: bad HTTP/2 input');
        if (!(e instanceof H2FrontError)) this.log?.error({ err: e }, 'unexpected error in the client front');
        socket.destroy();
        this.destroy();
        return;
      }
      if (this.rw.rewriting && !this.loggedRewrite) {
        this.loggedRewrite = true;
        this.log?.debug({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'rewriting :authority on this connection');
      }
      let more = true;
      for (const p of parts) more = this.push(p) && more;
      if (!more) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket.write(chunk)) cb();
    else this.socket.once('drain', () => cb());
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.socket.cork();
    let ok = true;
    for (const c of chunks) ok = this.socket.write(c.chunk) && ok;
    this.socket.uncork();
    if (ok) cb();
    else this.socket.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end();
    cb();
  }

  override _destroy(_err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    // Never re-raise: an 'error' here would only reach an HTTP/2 session that closes anyway.
    cb();
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.socket.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.socket.localPort;
  }
  address(): ReturnType<net.Socket['address']> {
    return this.socket.address();
  }
  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, delay?: number): this {
    this.socket.setKeepAlive(enable, delay);
    return this;
  }
  setTimeout(ms: number, cb?: () => void): this {
    this.socket.setTimeout(ms);
    if (cb) this.socket.once('timeout', cb);
    return this;
  }
  ref(): this {
    this.socket.ref();
    return this;
  }
  unref(): this {
    this.socket.unref();
    return this;
  }
}

export interface ClientFront {
  /** The bound port (the one asked for, or the OS's pick for 0). */
  port: number;
  /**
   * Stop accepting at once; resolves when the accepted connections are gone
   * (grpc-js's tryShutdown/forceShutdown closes them), or after 3 s.
   */
  close(): Promise<void>;
}

/**
 * Listen on `addr` ("host:port", IPv6 in brackets; a name listens on every
 * address it resolves to, like grpc-js) and serve each connection with
 * `server` through the rewriting front.
 */
export async function listenClientFront(server: grpc.Server, addr: string, log?: Logger): Promise<ClientFront> {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  let port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`store: bad listen address ${addr}`);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const hosts = net.isIP(host) || host === '' ? [host] : (await dns.lookup(host, { all: true })).map((a) => a.address);
  const servers: net.Server[] = [];
  const closeAll = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 3000);
      t.unref();
      void Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => {
        clearTimeout(t);
        resolve();
      });
    });
  try {
    for (const h of hosts) {
      const srv = net.createServer({ noDelay: true }, (socket) => {
        socket.on('error', () => {});
        injector.injectConnection(new RewritingSocket(socket, log));
      });
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(port, h === '' ? undefined : h, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      srv.on('error', (e) => log?.error({ err: e.message }, 'client listener error'));
      servers.push(srv);
      port = (srv.address() as net.AddressInfo).port;
    }
  } catch (e) {
    await closeAll();
    injector.destroy();
    throw new Error(`store: cannot listen on ${addr}: ${(e as Error).message}`);
  }
  return { port, close: closeAll };
}
