import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import type { KeyPairPem } from '../../lib/pki';
import type { Proto, ReverseProxy } from './reverse-proxy';

export interface IngressListenOptions {
  logger: Logger;
  /** Addresses to listen on (the NodePort addresses; 0.0.0.0 covers every node address and loopback). */
  addresses: string[];
  httpPort: number;
  httpsPort: number;
  proxy: ReverseProxy;
  /** The certificate for a TLS server name; called per handshake. */
  sni(serverName: string): tls.SecureContext;
  /** Served to clients that send no server name. */
  defaultCert: KeyPairPem;
  /** A listener could not bind (e.g. the port is taken); called on its first failure and when the reason changes. */
  onBindFailure?(address: string, port: number, proto: Proto, err: Error): void;
  retryMinMs?: number;
  retryMaxMs?: number;
}

interface Slot {
  address: string;
  port: number;
  proto: Proto;
  server: http.Server;
  state: 'binding' | 'listening' | 'failed';
  lastError?: string;
  delayMs: number;
  timer?: NodeJS.Timeout;
}

export interface IngressListenerStatus {
  address: string;
  port: number;
  proto: Proto;
  state: Slot['state'];
  lastError?: string;
}

/**
 * The Ingress's HTTP and HTTPS sockets, one per address and port. A socket that
 * cannot bind (a port taken by another program) is reported and retried with
 * backoff (doubling from retryMinMs to retryMaxMs); the others keep serving.
 */
export class IngressListeners {
  private readonly slots: Slot[] = [];
  private stopped = false;

  constructor(private readonly opts: IngressListenOptions) {}

  /** Starts every listener; resolves once each has bound or failed its first attempt. */
  async start(): Promise<void> {
    const o = this.opts;
    for (const address of o.addresses) {
      for (const [proto, port] of [['http', o.httpPort], ['https', o.httpsPort]] as const) {
        const slot: Slot = { address, port, proto, server: this.makeServer(proto), state: 'binding', delayMs: o.retryMinMs ?? 1_000 };
        this.slots.push(slot);
      }
    }
    await Promise.all(this.slots.map((s) => this.bind(s)));
  }

  private makeServer(proto: Proto): http.Server {
    const o = this.opts;
    const serverOpts = { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 60_000 };
    const server =
      proto === 'https'
        ? https.createServer({ ...serverOpts, cert: o.defaultCert.cert, key: o.defaultCert.key, SNICallback: (name, cb) => cb(null, o.sni(name)) })
        : http.createServer(serverOpts);
    server.on('request', (req, res) => o.proxy.handle(req, res, proto));
    server.on('upgrade', (req, socket, head) => o.proxy.upgrade(req, socket, head, proto));
    server.on('clientError', (_err, socket: net.Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    return server;
  }

  private bind(slot: Slot): Promise<void> {
    return new Promise((resolve) => {
      const onError = (err: Error) => {
        slot.server.off('listening', onListening);
        const changed = slot.lastError !== err.message;
        slot.state = 'failed';
        slot.lastError = err.message;
        if (changed) {
          this.opts.logger.warn({ address: slot.address, port: slot.port, proto: slot.proto, err: err.message }, 'ingress cannot listen; will retry');
          this.opts.onBindFailure?.(slot.address, slot.port, slot.proto, err);
        }
        if (!this.stopped) {
          slot.timer = setTimeout(() => void this.bind(slot), slot.delayMs);
          slot.delayMs = Math.min(slot.delayMs * 2, this.opts.retryMaxMs ?? 30_000);
        }
        resolve();
      };
      const onListening = () => {
        slot.server.off('error', onError);
        slot.state = 'listening';
        slot.lastError = undefined;
        slot.delayMs = this.opts.retryMinMs ?? 1_000;
        this.opts.logger.info({ address: slot.address, port: slot.port, proto: slot.proto }, 'ingress listening');
        resolve();
      };
      if (this.stopped) return resolve();
      slot.state = 'binding';
      slot.server.once('error', onError);
      slot.server.once('listening', onListening);
      slot.server.listen(slot.port, slot.address);
    });
  }

  status(): IngressListenerStatus[] {
    return this.slots.map((s) => ({ address: s.address, port: s.port, proto: s.proto, state: s.state, lastError: s.lastError }));
  }

  /** The port a listener got (useful when started on port 0). */
  boundPort(proto: Proto, address = this.opts.addresses[0]): number | undefined {
    const s = this.slots.find((x) => x.proto === proto && x.address === address && x.state === 'listening');
    const a = s?.server.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /** Stops retrying, closes every socket and drops open connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(
      this.slots.map(async (s) => {
        clearTimeout(s.timer);
        if (s.state !== 'listening') return;
        await new Promise<void>((r) => {
          s.server.close(() => r());
          s.server.closeAllConnections();
        });
      }),
    );
    this.opts.proxy.close();
  }
}
