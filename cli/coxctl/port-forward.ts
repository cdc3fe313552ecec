import net from 'node:net';
import type { Pod, Service } from 'kubernetes-types/core/v1';
import type WebSocket from 'ws';
import { ApiError } from '../../lib/client';
import { parseDuration } from '../../lib/duration';
import { PODS, resourcePath } from '../../lib/resources';
import type { Ctx } from './context';
import { CliError, formatApiError } from './errors';
import { findPod, TargetNotFound } from './pod-target';
import { hostPort, listenAddresses, parsePorts, podPorts, servicePorts, type ForwardedPort } from './port-forward-ports';
import { connectWs } from './ws-connect';

export interface PortForwardFlags {
  address?: string[];
  podRunningTimeout?: string;
}

/**
 * `coxctl port-forward POD|TYPE/NAME [LOCAL:]REMOTE...`: listens locally and carries each
 * accepted connection over its own WebSocket (`v4.channel.k8s.io` port-forward protocol) to the
 * pod's port, until interrupted (SIGINT/SIGTERM) or `stop` aborts.
 */
export async function runPortForward(ctx: Ctx, args: string[], flags: PortForwardFlags, stop?: AbortSignal): Promise<number> {
  if (args.length < 2) throw new CliError("TYPE/NAME and list of ports are required for port-forward\nSee 'coxctl port-forward -h' for help and examples");
  let target;
  try {
    target = await findPod(ctx, args[0], 'active', parseDuration(flags.podRunningTimeout ?? '1m'));
  } catch (err) {
    if (err instanceof TargetNotFound) {
      ctx.err(formatApiError(err.apiError) + '\n');
      return 1;
    }
    throw err;
  }
  const specs = target.object.kind === 'Service' ? servicePorts(args.slice(1), target.object as Service, target.pod) : podPorts(args.slice(1), target.pod);
  const ports = parsePorts(specs);
  const addresses = listenAddresses(flags.address?.length ? flags.address : ['localhost']);
  const podName = target.pod.metadata?.name ?? '';
  const ns = target.pod.metadata?.namespace ?? ctx.namespace;
  const pod = await ctx.client.request<Pod>('GET', resourcePath(PODS, { namespace: ns, name: podName }));
  if (pod.status?.phase !== 'Running') throw new CliError(`unable to forward port because pod is not running. Current status=${pod.status?.phase ?? ''}`);

  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const failed: ForwardedPort[] = [];
  for (const port of ports) {
    const errors: string[] = [];
    let bound = 0;
    for (const a of addresses) {
      try {
        const server = await listen(a.address, port.local);
        port.local = (server.address() as net.AddressInfo).port;
        ctx.out(`Forwarding from ${hostPort(a.address, port.local)} -> ${port.remote}\n`);
        server.on('connection', (sock) => handle(ctx, sock, ns, podName, { ...port }, sockets));
        servers.push(server);
        bound++;
      } catch (err) {
        errors.push(`unable to create listener: Error listen tcp${a.family} ${hostPort(a.address, port.local)}: ${(err as Error).message}`);
        if (a.required) bound = -Infinity;
      }
    }
    if (bound <= 0) {
      ctx.err(`Unable to listen on port ${port.local}: Listeners failed to create with the following errors: [${errors.join(' ')}]\n`);
      failed.push(port);
    }
  }
  if (failed.length === ports.length) {
    for (const s of servers) s.close();
    throw new CliError(`unable to listen on any of the requested ports: [${ports.map((p) => `{${p.local} ${p.remote}}`).join(' ')}]`);
  }
  // Runs until interrupted, or until the pod stops running (kubectl: "lost connection to pod").
  const watching = new AbortController();
  const lost = await new Promise<boolean>((resolve) => {
    const end = () => resolve(false);
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
    stop?.addEventListener('abort', end, { once: true });
    void watchPodGone(ctx, ns, podName, pod.metadata?.resourceVersion, watching.signal).then((gone) => gone && resolve(true));
  });
  watching.abort();
  for (const s of servers) s.close();
  for (const s of sockets) s.destroy();
  if (lost) throw new CliError('lost connection to pod');
  return 0;
}

/** Resolves true once the pod is deleted or leaves Running; false when `signal` aborts first. */
async function watchPodGone(ctx: Ctx, ns: string, name: string, resourceVersion: string | undefined, signal: AbortSignal): Promise<boolean> {
  let rv = resourceVersion;
  const goneNow = (p: Pod | undefined) => !p || p.status?.phase !== 'Running' || !!p.metadata?.deletionTimestamp;
  while (!signal.aborted) {
    const inner = new AbortController();
    const onAbort = () => inner.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let gone = false;
    try {
      await ctx.client.watch<Pod>(PODS, { namespace: ns, fieldSelector: `metadata.name=${name}`, resourceVersion: rv, signal: inner.signal }, (ev) => {
        if (ev.type === 'BOOKMARK' || ev.type === 'ERROR') return;
        rv = ev.object.metadata?.resourceVersion ?? rv;
        if (ev.type === 'DELETED' || goneNow(ev.object)) {
          gone = true;
          inner.abort();
        }
      });
    } catch {
      // a broken or expired watch: read the pod again below
      rv = undefined;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (gone) return true;
    if (signal.aborted) return false;
    await new Promise((r) => setTimeout(r, 1000));
    if (rv === undefined) {
      const now = await ctx.client.tryGet<Pod>(PODS, name, ns).catch(() => undefined);
      if (signal.aborted) return false;
      if (goneNow(now)) return true;
      rv = now!.metadata?.resourceVersion;
    }
  }
  return false;
}

function listen(address: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ pauseOnConnect: true });
    server.once('error', reject);
    server.listen({ host: address, port, ipv6Only: address.includes(':') }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** One local connection ↔ one WebSocket to the pod's port; either side closing closes both. */
function handle(ctx: Ctx, sock: net.Socket, ns: string, pod: string, port: ForwardedPort, sockets: Set<net.Socket>): void {
  ctx.out(`Handling connection for ${port.local}\n`);
  sockets.add(sock);
  let ws: WebSocket | undefined;
  const close = () => {
    sockets.delete(sock);
    sock.destroy();
    if (ws && ws.readyState === ws.OPEN) ws.close(1000);
  };
  sock.on('error', close);
  sock.on('close', close);
  connectWs(ctx.client, resourcePath(PODS, { namespace: ns, name: pod, subresource: 'portforward' }), [['ports', String(port.remote)]], ['v4.channel.k8s.io'])
    .then((socket) => {
      ws = socket;
      if (sock.destroyed) return close();
      // The first message on each channel carries the port (2 bytes); data is channel 0, errors 1.
      const seen = new Set<number>();
      ws.on('message', (raw: Buffer) => {
        const msg = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as ArrayBuffer);
        if (msg.length === 0) return;
        const ch = msg[0];
        let body = msg.subarray(1);
        if (!seen.has(ch)) {
          seen.add(ch);
          body = body.subarray(2);
        }
        if (body.length === 0) return;
        if (ch === 0) {
          if (!sock.write(body)) {
            ws!.pause();
            sock.once('drain', () => ws!.resume());
          }
        } else if (ch === 1) {
          ctx.err(`error: an error occurred forwarding ${port.local} -> ${port.remote}: ${body.toString('utf8')}\n`);
        }
      });
      ws.on('close', close);
      ws.on('error', close);
      sock.on('data', (d: Buffer) => {
        if (ws!.readyState === ws!.OPEN) ws!.send(Buffer.concat([Buffer.from([0]), d]));
      });
      sock.on('end', close);
      sock.resume();
    })
    .catch((err: unknown) => {
      ctx.err(`error: ${err instanceof ApiError ? formatApiError(err) : (err as Error).message}\n`);
      close();
    });
}
