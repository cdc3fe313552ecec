import dgram from 'node:dgram';
import { isIP } from 'node:net';
import net from 'node:net';

/**
 * Forwards queries for names outside the cluster domain to upstream resolvers,
 * as they are (the client's EDNS size and flags included): UDP for UDP
 * clients, TCP for TCP clients (so a truncated UDP answer's retry over TCP
 * gets the whole answer). Upstreams are tried in order; each gets
 * `timeoutMs`. The IO adapter: one UDP socket per address family, queries
 * matched to answers by a fresh ID and the upstream's address.
 */
export interface Upstream {
  host: string;
  port: number;
}

/** `1.1.1.1`, `1.1.1.1:53`, `[::1]:5353` → an upstream; throws naming the value. */
export function parseUpstream(s: string): Upstream {
  const v = s.trim();
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(v) ?? /^([^:]+)(?::(\d+))?$/.exec(v) ?? (isIP(v) === 6 ? [v, v, undefined] : null);
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (!m || isIP(m[1]!) === 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`--dns-upstream: ${JSON.stringify(s)} is not an IP address with an optional port (1.1.1.1, 127.0.0.1:5353, [::1]:53)`);
  return { host: m[1]!, port };
}

export class UpstreamError extends Error {}

interface Pending {
  upstream: Upstream;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class Forwarder {
  private readonly sockets = new Map<4 | 6, dgram.Socket>();
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    readonly upstreams: Upstream[],
    private readonly timeoutMs = 2_000,
  ) {}

  /** The upstream's answer, with the query's own ID; rejects with UpstreamError when every upstream failed. */
  async forward(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
    if (this.upstreams.length === 0) throw new UpstreamError('no upstream resolvers configured');
    const errors: string[] = [];
    for (const up of this.upstreams) {
      try {
        const answer = transport === 'udp' ? await this.viaUdp(up, query) : await this.viaTcp(up, query);
        answer.writeUInt16BE(query.readUInt16BE(0), 0);
        return answer;
      } catch (err) {
        errors.push(`${up.host}:${up.port}: ${(err as Error).message}`);
      }
    }
    throw new UpstreamError(errors.join('; '));
  }

  private socket(family: 4 | 6): dgram.Socket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => {
      if (msg.length < 12) return;
      const p = this.pending.get(msg.readUInt16BE(0));
      if (!p || p.upstream.host !== rinfo.address || p.upstream.port !== rinfo.port) return;
      this.settle(msg.readUInt16BE(0));
      p.resolve(Buffer.from(msg));
    });
    s.on('error', () => undefined);
    this.sockets.set(family, s);
    return s;
  }

  private settle(id: number): void {
    const p = this.pending.get(id);
    if (p) clearTimeout(p.timer);
    this.pending.delete(id);
  }

  private viaUdp(up: Upstream, query: Buffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('forwarder closed'));
    let id = Math.floor(Math.random() * 65536);
    for (let i = 0; this.pending.has(id); i++) {
      if (i > 65536) return Promise.reject(new Error('too many queries in flight'));
      id = (id + 1) & 0xffff;
    }
    const msg = Buffer.from(query);
    msg.writeUInt16BE(id, 0);
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { upstream: up, resolve, reject, timer });
      this.socket(isIP(up.host) === 6 ? 6 : 4).send(msg, up.port, up.host, (err) => {
        if (!err) return;
        this.settle(id);
        reject(err);
      });
    });
  }

  private viaTcp(up: Upstream, query: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const sock = net.connect({ host: up.host, port: up.port });
      let buf = Buffer.alloc(0);
      const done = (err?: Error, answer?: Buffer) => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(answer!);
      };
      const timer = setTimeout(() => done(new Error(`no answer in ${this.timeoutMs} ms`)), this.timeoutMs);
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length);
        sock.write(Buffer.concat([len, query]));
      });
      sock.on('data', (c) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(undefined, Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      });
      sock.on('error', (err) => done(err));
      sock.on('end', () => done(new Error('connection closed before an answer')));
    });
  }

  close(): void {
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('forwarder closed'));
      this.pending.delete(id);
    }
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }
}
