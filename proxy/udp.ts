import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { realClock, type Clock } from '../lib/clock';
import type { Backend, ListenerSpec, ServicePortKey } from './desired';
import type { Listener, ListenerContext, ListenerFactory } from './listener';
import { targetLabels } from './metrics';
import { FlowTable, type Flow } from './udp-flows';

/** Default idle timeout of a UDP flow: Linux conntrack's for UDP (kube-proxy userspace used 250 ms, too short for slow replies). */
export const DEFAULT_UDP_IDLE_TIMEOUT_MS = 30_000;
/** Default cap on UDP flows per proxy (each holds a socket). */
export const DEFAULT_UDP_MAX_FLOWS = 4_096;
/** At most one "flow table full" log line per this interval. */
const EVICT_LOG_INTERVAL_MS = 10_000;

export interface UdpOptions {
  idleTimeoutMs?: number;
  maxFlows?: number;
  clock?: Clock;
}

interface UdpFlow extends Flow {
  backend: Backend;
  /** Connected to the backend; its replies go back to the client through the Service socket. */
  sock: dgram.Socket;
  /** The backends list the backend was last found in (re-checked when the list changes). */
  seenIn: readonly Backend[];
  bytesIn: number;
  bytesOut: number;
  /** Datagrams that arrived before the socket finished connecting (dgram cannot send before then). */
  pending?: Buffer[];
}

/** Datagrams held per flow while its socket connects; more are dropped, as a full socket buffer would. */
const MAX_PENDING = 64;

/** What all UDP listeners of one proxy share: the bounded flow table and the eviction log limiter. */
class UdpShared {
  readonly flows: FlowTable<UdpFlow>;
  readonly clock: Clock;
  private evictedSinceLog = 0;
  private lastEvictLog = -Infinity;

  constructor(o: UdpOptions) {
    this.clock = o.clock ?? realClock;
    this.flows = new FlowTable<UdpFlow>({ idleTimeoutMs: o.idleTimeoutMs ?? DEFAULT_UDP_IDLE_TIMEOUT_MS, maxFlows: o.maxFlows ?? DEFAULT_UDP_MAX_FLOWS, clock: this.clock });
  }

  evicted(n: number, ctx: ListenerContext, max: number): void {
    if (n === 0) return;
    ctx.metrics.udpFlowsEvicted.inc(n);
    this.evictedSinceLog += n;
    const now = this.clock.now();
    if (now - this.lastEvictLog >= EVICT_LOG_INTERVAL_MS) {
      ctx.logger.warn({ evicted: this.evictedSinceLog, maxFlows: max }, 'UDP flow table full; evicting the least recently active flows');
      this.lastEvictLog = now;
      this.evictedSinceLog = 0;
    }
  }
}

/**
 * A userspace UDP proxy socket bound to the Service address (ClusterIP:port
 * or node:nodePort). Each client address:port is a flow: its first datagram
 * picks a backend (the balancer, so ClientIP affinity applies) and opens a
 * socket connected to it; later datagrams of that client go the same way, and
 * the backend's replies are sent back to the client from the Service socket,
 * so they come from the address the client sent to. Flows close when idle,
 * when the table is full (least recently active first), when their backend
 * leaves the ready list or answers with ICMP unreachable, and with the listener.
 */
export class UdpListener implements Listener {
  target: ServicePortKey;
  private sock?: dgram.Socket;
  private closed = false;
  private flowCount = 0;
  private readonly prefix: string;

  constructor(
    readonly spec: ListenerSpec,
    private readonly ctx: ListenerContext,
    private readonly shared: UdpShared,
    private readonly maxFlows: number,
  ) {
    this.target = spec.target;
    this.prefix = `${spec.key}|`;
  }

  get activeConnections(): number {
    return this.flowCount;
  }

  listen(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('listener closed'));
    const sock = dgram.createSocket({ type: isIPv6(this.spec.address) ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        sock.close();
        reject(err);
      };
      sock.once('error', onError);
      sock.bind({ address: this.spec.address, port: this.spec.port, exclusive: true }, () => {
        sock.off('error', onError);
        sock.on('error', (err) => this.ctx.logger.warn({ listener: this.spec.key, err: err.message }, 'listener error'));
        if (this.closed) {
          sock.close();
          return reject(new Error('listener closed'));
        }
        sock.on('message', (msg, rinfo) => this.fromClient(msg, rinfo.address, rinfo.port));
        this.sock = sock;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.shared.flows.removePrefix(this.prefix);
    const sock = this.sock;
    this.sock = undefined;
    if (sock) await new Promise<void>((resolve) => sock.close(() => resolve()));
  }

  private labels() {
    return { ...targetLabels(this.target), protocol: 'UDP' };
  }

  private fromClient(msg: Buffer, address: string, port: number): void {
    const key = `${this.prefix}${address}|${port}`;
    const flows = this.shared.flows;
    let flow = flows.get(key);
    if (flow) {
      const list = this.ctx.backends(this.target);
      if (list !== flow.seenIn) {
        // the ready list changed since this flow last looked: keep going only if its backend is still in it
        if (list.some((b) => b.ip === flow!.backend.ip && b.port === flow!.backend.port)) flow.seenIn = list;
        else {
          flows.remove(key);
          flow = undefined;
        }
      }
    }
    if (!flow) {
      flow = this.open(key, address, port);
      if (!flow) return;
    } else flows.touch(key);
    flow.bytesIn += msg.length;
    if (flow.pending) {
      if (flow.pending.length < MAX_PENDING) flow.pending.push(msg);
    } else flow.sock.send(msg);
  }

  /** A new flow for a client, or undefined (counted) when the port has no ready backend. */
  private open(key: string, address: string, port: number): UdpFlow | undefined {
    const { metrics, balancer } = this.ctx;
    const labels = this.labels();
    const list = this.ctx.backends(this.target);
    // NetworkPolicy (client egress, backend ingress) is checked when a flow opens, as for a TCP connection
    const admits = this.ctx.admits?.bind(this.ctx);
    const allowed = admits ? list.filter((b) => admits(address, b, 'UDP')) : list;
    const [backend] = balancer.candidates(this.target, allowed, address, 1);
    if (!backend) {
      metrics.errors.inc({ ...labels, reason: list.length > 0 ? 'policy_denied' : 'no_endpoints' });
      return undefined;
    }
    const sock = dgram.createSocket({ type: isIPv6(backend.ip) ? 'udp6' : 'udp4' });
    const flow: UdpFlow = {
      backend,
      sock,
      seenIn: list,
      lastActive: 0,
      bytesIn: 0,
      bytesOut: 0,
      pending: [],
      close: () => {
        this.flowCount--;
        metrics.activeConnections.dec(labels);
        metrics.bytes.inc({ ...labels, direction: 'in' }, flow.bytesIn);
        metrics.bytes.inc({ ...labels, direction: 'out' }, flow.bytesOut);
        try {
          sock.close();
        } catch {
          // already closed after an error
        }
      },
    };
    sock.on('message', (reply) => {
      const out = this.sock;
      if (!out) return;
      flow.bytesOut += reply.length;
      this.shared.flows.touch(key);
      out.send(reply, port, address);
    });
    sock.on('error', (err) => {
      // ECONNREFUSED: the backend's host said port unreachable to an earlier datagram
      metrics.errors.inc({ ...labels, reason: 'backend_unreachable' });
      this.ctx.logger.debug({ target: this.target, backend: `${backend.ip}:${backend.port}`, err: err.message }, 'UDP backend unreachable; flow closed');
      if (this.shared.flows.get(key) === flow) this.shared.flows.remove(key);
    });
    sock.connect(backend.port, backend.ip, () => {
      const queued = flow.pending ?? [];
      flow.pending = undefined;
      try {
        for (const m of queued) sock.send(m);
      } catch {
        // the flow was closed while connecting
      }
    });
    metrics.connections.inc(labels);
    metrics.activeConnections.inc(labels);
    this.flowCount++;
    this.shared.evicted(this.shared.flows.add(key, flow), this.ctx, this.maxFlows);
    return flow;
  }
}

/** A UDP listener factory; every listener it makes shares one flow table (so `maxFlows` bounds the whole proxy). */
export function udpListener(o: UdpOptions = {}): ListenerFactory {
  const shared = new UdpShared(o);
  const max = o.maxFlows ?? DEFAULT_UDP_MAX_FLOWS;
  return (spec, ctx) => new UdpListener(spec, ctx, shared, max);
}
