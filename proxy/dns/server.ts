import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from 'pino';
import type { DnsHandler } from './handler';

/**
 * The sockets of cluster DNS: UDP and TCP on one address and port, both fed to
 * a `DnsHandler`. TCP carries length-prefixed messages (RFC 1035 4.2.2), any
 * number per connection, answered in arrival order; an idle or oversized
 * connection is closed.
 */
export interface DnsServerOptions {
  handler: DnsHandler;
  logger: Logger;
  /** Idle TCP connections are closed after this long. */
  tcpIdleMs?: number;
}

export class DnsServer {
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private readonly conns = new Set<net.Socket>();
  /** `address:port` once listening. */
  bound?: string;

  constructor(private readonly opts: DnsServerOptions) {}

  /** Binds UDP and TCP on `address:port` (port 0: one free port for both); rejects when either fails, leaving nothing bound. */
  async listen(address: string, port: number): Promise<number> {
    const udp = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, address, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      const actual = udp.address().port;
      const tcp = net.createServer((sock) => this.serveTcp(sock));
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(actual, address, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      udp.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'DNS UDP socket error'));
      udp.on('message', (msg, rinfo) => {
        this.opts.handler.handle(msg, 'udp').then(
          (out) => out && udp.send(out, rinfo.port, rinfo.address, () => undefined),
          () => undefined,
        );
      });
      tcp.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'DNS TCP server error'));
      this.udp = udp;
      this.tcp = tcp;
      this.bound = net.isIPv6(address) ? `[${address}]:${actual}` : `${address}:${actual}`;
      return actual;
    } catch (err) {
      udp.close();
      throw err;
    }
  }

  private serveTcp(sock: net.Socket): void {
    this.conns.add(sock);
    sock.setTimeout(this.opts.tcpIdleMs ?? 10_000, () => sock.destroy());
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    // Answers go out in query order, even when a forwarded one takes longer.
    let chain: Promise<unknown> = Promise.resolve();
    sock.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (len < 12) {
          sock.destroy();
          return;
        }
        if (buf.length < 2 + len) break;
        const msg = Buffer.from(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        const pending = this.opts.handler.handle(msg, 'tcp');
        chain = chain.then(async () => {
          const out = await pending.catch(() => undefined);
          if (!out || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          sock.write(Buffer.concat([len, out]));
        });
      }
    });
  }

  async close(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    this.bound = undefined;
    for (const c of this.conns) c.destroy();
    await Promise.all([
      udp ? new Promise<void>((r) => udp.close(() => r())) : undefined,
      tcp ? new Promise<void>((r) => tcp.close(() => r())) : undefined,
    ]);
  }
}
