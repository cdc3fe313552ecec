/**
 * The client port's listener. It accepts TCP itself and hands every connection
 * to grpc-js (`Server.createConnectionInjector`); only connections whose
 * requests carry `:authority: http://host:port` (etcdctl 3.4 `endpoint
 * status|health` with an http:// endpoint), which nghttp2 would reset, go
 * through a JS Duplex that rewrites the client→server HTTP/2 stream with
 * AuthorityRewriter (h2-authority.ts). Every other connection is handed to
 * Node's HTTP/2 server as the plain socket, so nghttp2 reads it natively
 * (through a JS stream it costs ~10-16% of a busy leader's CPU).
 *
 * Sniff, then hand off: on accept the front sends an empty SETTINGS frame (the
 * server preface; grpc-go clients wait for it before their first request),
 * then reads the client's bytes through an AuthorityRewriter that drops the
 * ACK of that SETTINGS. Once the first header block has been seen (or the
 * client stayed quiet for SNIFF_IDLE_MS after its ACK) and needed no fix, the
 * bytes read so far (unchanged but for the dropped ACK) are put back into the
 * socket (`unshift`) and the socket is injected: Node's HTTP/2 session reads
 * buffered bytes first, then the socket handle. The server's own SETTINGS
 * follows ours; a client may get several SETTINGS frames (RFC 7540 §6.5).
 * A connection whose first block needed a fix keeps the JS path for its life.
 * Server→client bytes are never touched. A connection whose bytes do not parse
 * is closed; nothing here throws into the process.
 */
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../lib/log';
import { AuthorityRewriter, H2FrontError } from './h2-authority';

/** A net.Socket look-alike over a client socket, rewriting what the client sends. */
export class RewritingSocket extends Duplex {
  private loggedRewrite = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly log?: Logger,
    private readonly rw = new AuthorityRewriter(),
    /** Bytes already read and rewritten by `rw` (the sniffing phase), delivered first. */
    initial: Buffer[] = [],
  ) {
    super({ allowHalfOpen: true });
    for (const p of initial) this.push(p);
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

/** An empty SETTINGS frame: the server connection preface (RFC 7540 §3.5), all defaults. */
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
/**
 * After the ACK, a client that sends no request for this long is handed to the native server
 * (generous: a starved etcdctl sending its request late must still meet the rewriter).
 */
const SNIFF_IDLE_MS = 1_000;
/**
 * Bytes a connection may send while it is sniffed (a real client sends a few KiB: preface,
 * SETTINGS, WINDOW_UPDATE, a header block). Control frames are not flow-controlled, so without a
 * cap a flood of PINGs before the ACK would grow memory without bound.
 */
const SNIFF_MAX_HELD_BYTES = 256 * 1024;
/** A client that has not acked the front's SETTINGS by then is closed. */
const SNIFF_TIMEOUT_MS = 10_000;

/** Counters for tests and logs: how accepted connections were served. */
export const frontStats = { native: 0, rewriting: 0, closed: 0 };

/**
 * The sniffing phase of one accepted connection (see the top of the file):
 * `inject` gets the plain socket (native HTTP/2) or a RewritingSocket.
 */
function sniff(socket: net.Socket, inject: (s: net.Socket | Duplex) => void, log?: Logger, sniffing?: Set<net.Socket>): void {
  const rw = new AuthorityRewriter({ dropFirstSettingsAck: true });
  const held: Buffer[] = [];
  let heldBytes = 0;
  let idle: NodeJS.Timeout | undefined;
  const drop = (why: string): void => {
    decided = true;
    log?.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, `client connection closed: ${why}`);
    finish();
    frontStats.closed++;
    socket.destroy();
  };
  const deadline = setTimeout(() => drop(rw.settingsAckDropped ? 'no complete HTTP/2 frame in time' : 'no HTTP/2 SETTINGS ACK'), SNIFF_TIMEOUT_MS);
  deadline.unref();
  sniffing?.add(socket);
  const finish = (): void => {
    clearTimeout(deadline);
    if (idle) clearTimeout(idle);
    socket.off('data', onData);
    socket.off('close', finish);
    sniffing?.delete(socket);
  };
  let decided = false;
  const native = (): void => {
    if (decided) return;
    if (rw.holding) {
      // Part of a frame is inside the rewriter; the rest is on its way. Decide with it.
      if (idle) {
        clearTimeout(idle);
        idle = setTimeout(native, SNIFF_IDLE_MS).unref();
      }
      return;
    }
    decided = true;
    finish();
    socket.pause();
    if (held.length > 0) socket.unshift(held.length === 1 ? held[0] : Buffer.concat(held));
    frontStats.native++;
    inject(socket);
  };
  const onData = (chunk: Buffer): void => {
    heldBytes += chunk.length;
    if (heldBytes > SNIFF_MAX_HELD_BYTES) return drop(`over ${SNIFF_MAX_HELD_BYTES} bytes before its first request`);
    try {
      for (const p of rw.push(chunk)) held.push(p);
    } catch (e) {
      log?.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}`, err: (e as Error).message }, 'client connection closed: bad HTTP/2 input');
      if (!(e instanceof H2FrontError)) log?.error({ err: e }, 'unexpected error in the client front');
      decided = true;
      finish();
      frontStats.closed++;
      socket.destroy();
      return;
    }
    if (rw.rewriting) {
      decided = true;
      finish();
      frontStats.rewriting++;
      log?.debug({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'rewriting :authority on this connection');
      inject(new RewritingSocket(socket, log, rw, held));
      return;
    }
    if (!rw.settingsAckDropped) return;
    if (rw.blocks > 0) return native();
    if (!idle) {
      idle = setTimeout(native, SNIFF_IDLE_MS);
      idle.unref();
    }
  };
  socket.on('data', onData);
  socket.on('close', finish);
  socket.write(EMPTY_SETTINGS);
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
 * `server` through the rewriting front. With `tlsOptions` (an https:// client
 * URL) each connection is a TLS server socket first: the front sniffs and
 * rewrites the decrypted bytes, and grpc-js gets the TLS socket (nghttp2 still
 * reads it natively, through Node's TLS stream).
 */
export async function listenClientFront(
  server: grpc.Server,
  addr: string,
  log?: Logger,
  mode: 'sniff' | 'always' = 'sniff',
  tlsOptions?: tls.TlsOptions,
): Promise<ClientFront> {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  let port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`store: bad listen address ${addr}`);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const hosts = net.isIP(host) || host === '' ? [host] : (await dns.lookup(host, { all: true })).map((a) => a.address);
  const servers: net.Server[] = [];
  // Connections still being sniffed are not grpc-js's yet: close() ends them itself.
  const sniffing = new Set<net.Socket>();
  let closed = false;
  const closeAll = (): Promise<void> =>
    new Promise<void>((resolve) => {
      closed = true;
      for (const s of sniffing) s.destroy();
      sniffing.clear();
      const t = setTimeout(resolve, 3000);
      t.unref();
      void Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => {
        clearTimeout(t);
        resolve();
      });
    });
  try {
    for (const h of hosts) {
      const serve = (socket: net.Socket): void => {
        socket.on('error', () => {});
        if (mode === 'always') injector.injectConnection(new RewritingSocket(socket, log));
        else sniff(socket, (s) => (closed ? s.destroy() : injector.injectConnection(s)), log, sniffing);
      };
      let srv: net.Server;
      if (tlsOptions) {
        const t = tls.createServer({ ...tlsOptions, handshakeTimeout: SNIFF_TIMEOUT_MS }, serve);
        t.on('connection', (raw: net.Socket) => raw.setNoDelay(true));
        // A refused handshake (no or untrusted client certificate, not TLS at all) closes that connection only.
        t.on('tlsClientError', (e, s) => log?.debug({ remote: `${s.remoteAddress}:${s.remotePort}`, err: e.message }, 'client TLS handshake failed'));
        srv = t;
      } else {
        srv = net.createServer({ noDelay: true }, serve);
      }
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
