import net from 'node:net';
import type { Logger } from '../../lib/log';

/**
 * The agent's client-side load balancer for the apiservers (k3s keeps one for
 * the same reason): the kubelet and the proxy talk to 127.0.0.1:<port>, and each
 * connection is passed, TLS and all, to a live apiserver. The list of apiservers
 * is refreshed from the `kubernetes` Endpoints by the caller, so a host joined
 * through one server keeps working when that server is gone.
 *
 * Health: every `probeMs` each apiserver gets a TCP connect with a timeout;
 * after `failuresToDown` failures in a row it is skipped, and the connections
 * open to it are closed so that their clients reconnect (a host whose link was
 * cut never sends a reset, so without this a watch would hang on it).
 */
export interface BalancerOptions {
  host: string;
  port: number;
  probeMs?: number;
  connectTimeoutMs?: number;
  failuresToDown?: number;
}

interface Upstream {
  address: string; // host:port
  failures: number;
  sockets: Set<net.Socket>;
}

function split(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

function connect(address: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ ...split(address), noDelay: true });
    const t = setTimeout(() => s.destroy(new Error(`connect to ${address} timed out after ${timeoutMs} ms`)), timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
}

/**
 * The order in which to try upstreams for a new connection: the healthy ones
 * first, starting at `next` (round robin), then the rest (all may be marked down
 * wrongly, e.g. after a network blip: trying beats refusing). Pure.
 */
export function tryOrder(upstreams: readonly { failures: number }[], next: number, failuresToDown: number): number[] {
  const n = upstreams.length;
  const rotated = Array.from({ length: n }, (_, i) => (next + i) % n);
  return [...rotated.filter((i) => upstreams[i].failures < failuresToDown), ...rotated.filter((i) => upstreams[i].failures >= failuresToDown)];
}

export class ApiserverBalancer {
  private upstreams: Upstream[] = [];
  private next = 0;
  private server?: net.Server;
  private probeTimer?: NodeJS.Timeout;
  private readonly probeMs: number;
  private readonly timeoutMs: number;
  private readonly failuresToDown: number;

  constructor(
    private readonly o: BalancerOptions,
    initial: string[],
    private readonly log: Logger,
  ) {
    this.probeMs = o.probeMs ?? 1_000;
    this.timeoutMs = o.connectTimeoutMs ?? 1_000;
    this.failuresToDown = o.failuresToDown ?? 2;
    this.setUpstreams(initial);
  }

  /** The port listened on (useful with port 0). */
  port(): number {
    return (this.server?.address() as net.AddressInfo | null)?.port ?? this.o.port;
  }

  /** The apiservers as host:port, in the order given. */
  addresses(): string[] {
    return this.upstreams.map((u) => u.address);
  }

  /** Replaces the list; kept upstreams keep their health and connections. An empty list is ignored. */
  setUpstreams(addresses: string[]): void {
    const want = [...new Set(addresses)];
    if (!want.length) return;
    const old = new Map(this.upstreams.map((u) => [u.address, u]));
    const removed = this.upstreams.filter((u) => !want.includes(u.address));
    this.upstreams = want.map((a) => old.get(a) ?? { address: a, failures: 0, sockets: new Set() });
    for (const u of removed) for (const s of u.sockets) s.destroy();
    if (removed.length || want.some((a) => !old.has(a))) this.log.info({ apiservers: want }, 'apiserver list updated');
  }

  async start(): Promise<void> {
    this.server = net.createServer({ noDelay: true }, (client) => void this.handle(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.o.port, this.o.host, () => resolve());
    });
    const probe = () => {
      void Promise.all(this.upstreams.map((u) => this.probe(u))).finally(() => {
        if (this.probeTimer) this.probeTimer = setTimeout(probe, this.probeMs);
      });
    };
    this.probeTimer = setTimeout(probe, this.probeMs);
  }

  private async probe(u: Upstream): Promise<void> {
    try {
      (await connect(u.address, this.timeoutMs)).destroy();
      if (u.failures >= this.failuresToDown) this.log.info({ apiserver: u.address }, 'apiserver reachable again');
      u.failures = 0;
    } catch (err) {
      u.failures += 1;
      if (u.failures === this.failuresToDown) {
        this.log.warn({ apiserver: u.address, err: (err as Error).message, connections: u.sockets.size }, 'apiserver unreachable; closing its connections');
        for (const s of u.sockets) s.destroy();
      }
    }
  }

  private async handle(client: net.Socket): Promise<void> {
    client.on('error', () => undefined);
    client.pause();
    const order = tryOrder(this.upstreams, this.next, this.failuresToDown);
    this.next = (this.next + 1) % Math.max(1, this.upstreams.length);
    for (const i of order) {
      const u = this.upstreams[i];
      if (!u || client.destroyed) return;
      try {
        const up = await connect(u.address, this.timeoutMs);
        if (client.destroyed) return void up.destroy();
        u.sockets.add(up);
        up.on('error', () => client.destroy());
        client.on('error', () => up.destroy());
        up.on('close', () => {
          u.sockets.delete(up);
          client.destroy();
        });
        client.on('close', () => up.destroy());
        client.pipe(up);
        up.pipe(client);
        client.resume();
        return;
      } catch (err) {
        u.failures = Math.max(u.failures, this.failuresToDown);
        this.log.warn({ apiserver: u.address, err: (err as Error).message }, 'apiserver connect failed; trying the next');
      }
    }
    client.destroy();
  }

  async close(): Promise<void> {
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    for (const u of this.upstreams) for (const s of u.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
