import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import type { KeyPairPem } from '../../lib/pki';
import { hostIngressAddresses } from './addresses';
import type { Proto, ReverseProxy } from './reverse-proxy';

export interface IngressListenOptions {
  logger: Logger;
  /**
   * Addresses to listen on (the NodePort addresses): 0.0.0.0 means each of this node's addresses,
   * loopback included, bound one by one and followed as they come and go (addresses.ts says why).
   */
  addresses: string[];
  /** The concrete addresses for `addresses` now; default: this host's interfaces (hostIngressAddresses). */
  resolveAddresses?: (configured: readonly string[]) => string[];
  /** How often the node's addresses are looked at again; default 5 s. */
  refreshMs?: number;
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
  private slots: Slot[] = [];
  private stopped = false;
  private refreshTimer?: NodeJS.Timeout;

  constructor(private readonly opts: IngressListenOptions) {}

  /** Starts every listener; resolves once each has bound or failed its first attempt. */
  async start(): Promise<void> {
    await this.refresh();
    const every = this.opts.refreshMs ?? 5_000;
    const tick = () => {
      this.refreshTimer = setTimeout(() => void this.refresh().finally(() => !this.stopped && tick()), every);
      this.refreshTimer.unref();
    };
    tick();
  }

  /** Opens sockets on addresses that appeared and closes those on addresses that went away. */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    const o = this.opts;
    const wanted = new Set((o.resolveAddresses ?? hostIngressAddresses)(o.addresses));
    const gone = this.slots.filter((s) => !wanted.has(s.address));
    this.slots = this.slots.filter((s) => wanted.has(s.address));
    await Promise.all(gone.map((s) => this.close(s)));
    for (const s of gone) o.logger.info({ address: s.address, port: s.port, proto: s.proto }, 'ingress address gone; stopped listening');
    const fresh: Slot[] = [];
    for (const address of wanted) {
      if (this.slots.some((s) => s.address === address)) continue;
      for (const [proto, port] of [['http', o.httpPort], ['https', o.httpsPort]] as const) {
        fresh.push({ address, port, proto, server: this.makeServer(proto), state: 'binding', delayMs: o.retryMinMs ?? 1_000 });
      }
    }
    this.slots.push(...fresh);
    await Promise.all(fresh.map((s) => this.bind(s)));
  }

  private async close(s: Slot): Promise<void> {
    clearTimeout(s.timer);
    if (s.state !== 'listening') return;
    await new Promise<void>((r) => {
      s.server.close(() => r());
      s.server.closeAllConnections();
    });
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
          slot.timer = setTimeout(() => { if (this.slots.includes(slot)) void this.bind(slot); }, slot.delayMs);
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

  /** The port a listener got (useful when started on port 0); without an address, the first listening one's. */
  boundPort(proto: Proto, address?: string): number | undefined {
    const s = this.slots.find((x) => x.proto === proto && (address === undefined || x.address === address) && x.state === 'listening');
    const a = s?.server.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /** Stops retrying, closes every socket and drops open connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.refreshTimer);
    await Promise.all(this.slots.map((s) => this.close(s)));
    this.opts.proxy.close();
  }
}
