import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import { sinceUnix } from '../../kubelet/api/log-options';
import type { UserInfo } from '../auth';
import { ApiError, errors } from '../errors';
import { type ApiPath, type RequestLabels, type RestContext, mastersOnlyAuthorizer } from '../handlers/context';
import { ERROR, EXEC_PROTOCOLS, PORTFORWARD_PROTOCOLS, STDERR, STDIN, STDOUT, errorStatus, exitStatus, frame, parseIncoming, portPrefix, selectProtocol } from './channels';
import type { ExecOutput, KubeletApiClient, PortForwardOutput } from '../../kubelet/api/proto';
import { parseExecOptions, parseLogOptions, parsePorts, resolveContainer } from './options';
import { type ForwardCall, servePortForwardSession } from './portforward-spdy';
import { SpdyServerSession } from './spdy-session';
import { SPDY_PORTFORWARD_PROTOCOL, SPDY_TUNNEL_PROTOCOL, SPDY_UPGRADE, acceptsStreamProtocol, switchingToSpdy } from './spdy-upgrade';

/**
 * The streaming subresources of pods, proxied to the pod's kubelet over gRPC:
 * `log` (GET, chunked text/plain), `exec` and `attach` (WebSocket, remotecommand channel
 * protocol v5/v4) and `portforward`: kubectl's SPDY streams, over a WebSocket
 * (`SPDY/3.1+portforward.k8s.io`) or a plain `Upgrade: SPDY/3.1`, and client-node's v4
 * WebSocket port-forward protocol.
 */

export const STREAMING_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward']);

/** Delay before the first frame after the 101: client-go registers its streams while it starts reading. */
const FIRST_FRAME_DELAY_MS = 100;
/** How long an exec with a TTY waits for the client's first resize before it starts the process. */
const TTY_SIZE_WAIT_MS = 300;

const kWs: unique symbol = Symbol.for('coxswain.ws.socket') as typeof kWs;
const kWsHead: unique symbol = Symbol.for('coxswain.ws.head') as typeof kWsHead;

/** An upgrade request as routed through fastify: its socket and head ride along to the handler. */
interface UpgradeRequest extends IncomingMessage {
  [kWs]?: Duplex;
  [kWsHead]?: Buffer;
  /** set once a handler took the socket over (else it is destroyed when fastify's reply finishes) */
  coxswainUpgraded?: boolean;
}

/**
 * Routes WebSocket upgrade requests through fastify (hooks, authentication, handlers),
 * as @fastify/websocket does: the handler finds the raw socket on the request.
 */
export function installUpgradeRouting(app: FastifyInstance): void {
  const server = app.server as unknown as { on(ev: 'upgrade', fn: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): void } | undefined;
  if (!server || typeof server.on !== 'function') return;
  server.on('upgrade', (req: UpgradeRequest, socket, head) => {
    req[kWs] = socket;
    req[kWsHead] = head;
    const res = new ServerResponse(req);
    socket.on('error', () => socket.destroy());
    try {
      res.assignSocket(socket as Socket);
      res.on('finish', () => {
        if (!req.coxswainUpgraded) socket.destroy();
      });
      app.routing(req, res);
    } catch {
      socket.destroy();
    }
  });
}

function upgrade(req: FastifyRequest, reply: FastifyReply, protocols: string[]): Promise<{ ws: WebSocket; protocol: string }> {
  const raw = req.raw as UpgradeRequest;
  const socket = raw[kWs];
  if (!socket) throw errors.badRequest('Upgrade request required');
  const protocol = selectProtocol(req.headers['sec-websocket-protocol'], protocols);
  if (!protocol) throw errors.badRequest(`none of the offered subprotocols is supported; use one of: ${protocols.join(', ')}`);
  reply.hijack();
  raw.coxswainUpgraded = true;
  // ws refuses subprotocols that are not HTTP tokens, and `SPDY/3.1+portforward.k8s.io`
  // (kubectl's) has a '/': take the choice out of ws's hands and answer it ourselves.
  const untokenly = !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(protocol);
  if (untokenly) delete raw.headers['sec-websocket-protocol'];
  return new Promise((resolve) => {
    const server = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024, handleProtocols: () => protocol });
    if (untokenly) server.on('headers', (headers) => headers.push(`Sec-WebSocket-Protocol: ${protocol}`));
    server.handleUpgrade(raw, socket, raw[kWsHead] ?? Buffer.alloc(0), (ws) => resolve({ ws, protocol }));
  });
}

async function authorizeStream(ctx: RestContext, user: UserInfo | undefined, verb: string, ns: string, name: string, subresource: string): Promise<void> {
  const authorize = ctx.authorize ?? mastersOnlyAuthorizer;
  const d = await authorize(user, { verb, namespace: ns, group: '', version: 'v1', resource: 'pods', subresource, name });
  if (!d.allowed) {
    throw errors.forbidden(`pods "${name}" is forbidden: User "${user?.name ?? 'system:anonymous'}" cannot ${verb} resource "pods/${subresource}" in API group "" in the namespace "${ns}"${d.reason ? `: ${d.reason}` : ''}`,
      { name, kind: 'pods' });
  }
}

async function podAndNode(ctx: RestContext, ns: string, name: string): Promise<{ pod: Pod; node: Node }> {
  const podDef = ctx.registry.lookup('', 'v1', 'pods')!;
  const pod = (await ctx.storage.get(podDef, ns, name)).obj as Pod;
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
  const nodeDef = ctx.registry.lookup('', 'v1', 'nodes')!;
  let node: Node;
  try {
    node = (await ctx.storage.get(nodeDef, undefined, nodeName)).obj as Node;
  } catch (e) {
    if (e instanceof ApiError && e.reason === 'NotFound') throw errors.badRequest(`node "${nodeName}" of pod ${name} not found`);
    throw e;
  }
  return { pod, node };
}

function kubelet(ctx: RestContext, node: Node): KubeletApiClient {
  if (!ctx.kubelets) throw errors.unavailable('this apiserver has no kubelet client certificate (--kubelet-client-certificate)');
  try {
    return ctx.kubelets.forNode(node);
  } catch (e) {
    throw errors.internal(String((e as Error).message));
  }
}

/** A kubelet gRPC error as the Status Kubernetes would answer. */
function fromGrpcError(err: grpc.ServiceError | { code?: number; details?: string; message?: string }): ApiError {
  const msg = err.details || err.message || 'kubelet error';
  switch (err.code) {
    case grpc.status.NOT_FOUND:
    case grpc.status.FAILED_PRECONDITION:
    case grpc.status.INVALID_ARGUMENT:
      return errors.badRequest(msg);
    case grpc.status.PERMISSION_DENIED:
      return errors.forbidden(msg);
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
      return errors.internal(`error dialing backend: ${msg}`);
    default:
      return errors.internal(msg);
  }
}

export async function handleStreaming(ctx: RestContext, req: FastifyRequest, reply: FastifyReply, p: ApiPath, labels: RequestLabels): Promise<unknown> {
  const sub = p.subresource!;
  labels.resource = `pods/${sub}`;
  if (p.group !== '' || p.resource !== 'pods' || !p.namespace || !p.name) throw errors.pathNotFound();
  const query = (req.query ?? {}) as Record<string, unknown>;
  if (sub === 'log') {
    if (req.method !== 'GET') throw errors.methodNotAllowed(req.method, 'pods/log');
    labels.verb = 'get';
    return serveLog(ctx, req, reply, p.namespace, p.name, query);
  }
  if (req.method !== 'GET' && req.method !== 'POST') throw errors.methodNotAllowed(req.method, `pods/${sub}`);
  labels.verb = 'create';
  if (sub === 'portforward') return servePortForward(ctx, req, reply, p.namespace, p.name, query);
  return serveExec(ctx, req, reply, p.namespace, p.name, query, sub === 'attach');
}

async function serveLog(ctx: RestContext, req: FastifyRequest, reply: FastifyReply, ns: string, name: string, query: Record<string, unknown>): Promise<void> {
  await authorizeStream(ctx, req.user, 'get', ns, name, 'log');
  const o = parseLogOptions(query);
  const { pod, node } = await podAndNode(ctx, ns, name);
  const container = resolveContainer(pod, o.container);
  const client = kubelet(ctx, node);
  const call = client.Logs({
    pod: { namespace: ns, name, uid: pod.metadata?.uid ?? '' },
    container,
    follow: o.follow,
    previous: o.previous,
    tail_lines: o.tailLines ?? -1,
    since_unix: sinceUnix(Date.now(), o.sinceSeconds, o.sinceTime),
    timestamps: o.timestamps,
    limit_bytes: o.limitBytes ?? 0,
  });
  const raw = reply.raw;
  await new Promise<void>((resolve, reject) => {
    let started = false;
    let closed = false;
    const start = () => {
      if (started) return;
      started = true;
      reply.hijack();
      raw.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
      // writeHead only queues the headers until the first body write; a follow of a quiet
      // container would leave the client without a response. Send them now.
      raw.flushHeaders();
    };
    raw.on('close', () => {
      closed = true;
      call.cancel();
      resolve();
    });
    let failed = false;
    call.on('data', (m: { data: Buffer }) => {
      if (failed) return;
      start();
      if (m.data?.length && !raw.write(m.data)) {
        call.pause();
        raw.once('drain', () => call.resume());
      }
    });
    call.on('end', () => {
      if (failed) return; // grpc-js emits 'end' after 'error'
      start();
      raw.end();
      resolve();
    });
    call.on('error', (err: grpc.ServiceError) => {
      failed = true;
      if (closed) return resolve();
      if (!started) return reject(fromGrpcError(err));
      raw.end();
      resolve();
    });
  });
}

async function serveExec(ctx: RestContext, req: FastifyRequest, reply: FastifyReply, ns: string, name: string, query: Record<string, unknown>, attach: boolean): Promise<void> {
  const sub = attach ? 'attach' : 'exec';
  await authorizeStream(ctx, req.user, 'create', ns, name, sub);
  if (attach) throw errors.badRequest('attach is not supported yet; use exec');
  const o = parseExecOptions(query, attach);
  const { pod, node } = await podAndNode(ctx, ns, name);
  const container = resolveContainer(pod, o.container);
  const client = kubelet(ctx, node);
  const { ws, protocol } = await upgrade(req, reply, EXEC_PROTOCOLS);

  const out = delayedSender(ws);
  const send = out.send;
  let finished = false;
  const finish = (status: Record<string, unknown>) => {
    if (finished) return;
    finished = true;
    send(frame(ERROR, JSON.stringify(status)));
    const close = () => ws.readyState === ws.OPEN && ws.close(1000);
    if (out.ready()) close();
    else setTimeout(close, FIRST_FRAME_DELAY_MS + 5);
  };
  const { size, early } = o.tty ? await terminalSize(ws, protocol) : { size: undefined, early: [] };
  const call = client.Exec();
  call.write({ start: { pod: { namespace: ns, name, uid: pod.metadata?.uid ?? '' }, container, command: o.command, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr, tty: o.tty, size } });
  call.on('data', (m: ExecOutput) => {
    if (m.msg === 'stdout' && m.stdout?.length) send(frame(STDOUT, m.stdout));
    else if (m.msg === 'stderr' && m.stderr?.length) send(frame(STDERR, m.stderr));
    else if (m.msg === 'exit') {
      const e: Partial<NonNullable<ExecOutput['exit']>> = m.exit ?? {};
      finish(e.error ? errorStatus(e.error) : exitStatus(Number(e.exit_code ?? 0), o.command));
    }
  });
  call.on('error', (err: grpc.ServiceError) => {
    if (err.code === grpc.status.CANCELLED && finished) return;
    finish(errorStatus(fromGrpcError(err).message));
  });
  call.on('end', () => finish(errorStatus('the kubelet ended the exec stream without an exit code')));
  const onMessage = (data: Buffer) => {
    if (finished) return;
    const msg = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
    const m = parseIncoming(msg, protocol);
    if (m.kind === 'stdin' && o.stdin) call.write({ stdin: m.data });
    else if (m.kind === 'resize') call.write({ resize: { width: m.width, height: m.height } });
    else if (m.kind === 'close' && m.channel === STDIN) call.write({ stdin_close: true });
  };
  for (const msg of early) onMessage(msg);
  ws.on('message', onMessage);
  ws.on('close', () => {
    if (!finished) {
      finished = true;
      call.cancel();
    } else call.end();
  });
  ws.on('error', () => undefined);
}

async function servePortForward(ctx: RestContext, req: FastifyRequest, reply: FastifyReply, ns: string, name: string, query: Record<string, unknown>): Promise<void> {
  await authorizeStream(ctx, req.user, 'create', ns, name, 'portforward');
  const spdyUpgrade = String(req.headers.upgrade ?? '').toLowerCase() === SPDY_UPGRADE.toLowerCase();
  const tunnel = !spdyUpgrade && selectProtocol(req.headers['sec-websocket-protocol'], [SPDY_TUNNEL_PROTOCOL]) !== undefined;
  if (spdyUpgrade || tunnel) return servePortForwardSpdy(ctx, req, reply, ns, name, tunnel);
  const ports = parsePorts(query);
  const { pod, node } = await podAndNode(ctx, ns, name);
  const client = kubelet(ctx, node);
  const { ws } = await upgrade(req, reply, PORTFORWARD_PROTOCOLS);
  const calls: ReturnType<KubeletApiClient['PortForward']>[] = [];
  const out = delayedSender(ws);
  const send = out.send;
  let open = ports.length;
  ports.forEach((port, i) => {
    const dataCh = 2 * i;
    const errCh = 2 * i + 1;
    send(frame(dataCh, portPrefix(port)));
    send(frame(errCh, portPrefix(port)));
    const call = client.PortForward();
    calls.push(call);
    call.write({ start: { pod: { namespace: ns, name, uid: pod.metadata?.uid ?? '' }, port } });
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      if (--open === 0) setTimeout(() => ws.readyState === ws.OPEN && ws.close(1000), out.ready() ? 0 : FIRST_FRAME_DELAY_MS + 5);
    };
    call.on('data', (m: PortForwardOutput) => {
      if (m.msg === 'data' && m.data?.length) send(frame(dataCh, m.data));
      else if (m.msg === 'error') send(frame(errCh, m.error ?? ''));
    });
    call.on('error', (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) send(frame(errCh, fromGrpcError(err).message));
      end();
    });
    call.on('end', end);
  });
  ws.on('message', (data: Buffer) => {
    const msg = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
    if (msg.length < 1) return;
    const ch = msg[0];
    if (ch % 2 !== 0) return;
    const call = calls[ch / 2];
    if (call && msg.length > 1) call.write({ data: msg.subarray(1) });
  });
  ws.on('close', () => {
    for (const c of calls) c.cancel();
  });
  ws.on('error', () => undefined);
}

/**
 * kubectl's port-forward: SPDY streams over the upgraded connection itself (`Upgrade:
 * SPDY/3.1`) or tunnelled in binary WebSocket messages; each stream pair goes to one kubelet
 * PortForward call (portforward-spdy.ts).
 */
async function servePortForwardSpdy(ctx: RestContext, req: FastifyRequest, reply: FastifyReply, ns: string, name: string, tunnel: boolean): Promise<void> {
  const { pod, node } = await podAndNode(ctx, ns, name);
  const client = kubelet(ctx, node);
  let session: SpdyServerSession;
  if (tunnel) {
    const { ws } = await upgrade(req, reply, [SPDY_TUNNEL_PROTOCOL]);
    session = new SpdyServerSession(createWebSocketStream(ws));
  } else {
    const raw = req.raw as UpgradeRequest;
    const socket = raw[kWs];
    if (!socket) throw errors.badRequest('Upgrade request required');
    if (!acceptsStreamProtocol(req.headers['x-stream-protocol-version'], SPDY_PORTFORWARD_PROTOCOL)) {
      throw errors.forbidden(`unable to upgrade: none of the requested stream protocols ${JSON.stringify(req.headers['x-stream-protocol-version'])} is supported; supported: ${SPDY_PORTFORWARD_PROTOCOL}`);
    }
    reply.hijack();
    raw.coxswainUpgraded = true;
    socket.write(switchingToSpdy(SPDY_PORTFORWARD_PROTOCOL));
    const head = raw[kWsHead];
    if (head?.length) socket.unshift(head);
    session = new SpdyServerSession(socket);
  }
  const podRef = { namespace: ns, name, uid: pod.metadata?.uid ?? '' };
  session.on('protocolError', (err) => req.log.warn({ err: err.message, pod: `${ns}/${name}` }, 'port-forward SPDY protocol error'));
  servePortForwardSession(session, {
    dial(port): ForwardCall {
      const call = client.PortForward();
      call.write({ start: { pod: podRef, port } });
      return call;
    },
    errorText: (err) => (err.code === grpc.status.CANCELLED ? undefined : fromGrpcError(err).message),
  });
}

/**
 * Sends frames on `ws`, holding them until FIRST_FRAME_DELAY_MS after the 101 (the kubectl
 * contract's pitfall: client-go registers its streams while it starts reading).
 */
function delayedSender(ws: WebSocket): { send(b: Buffer): void; ready(): boolean } {
  let ready = false;
  const pending: Buffer[] = [];
  setTimeout(() => {
    ready = true;
    for (const b of pending.splice(0)) if (ws.readyState === ws.OPEN) ws.send(b);
  }, FIRST_FRAME_DELAY_MS);
  return {
    send(b) {
      if (ws.readyState !== ws.OPEN) return;
      if (!ready) pending.push(b);
      else ws.send(b);
    },
    ready: () => ready,
  };
}

/**
 * With a TTY, kubectl sends the terminal size first: waits up to TTY_SIZE_WAIT_MS for it so the
 * process starts with the right size (a later resize would race a short command). Messages
 * that came before it are returned in `early`, to be handled once the exec runs.
 */
function terminalSize(ws: WebSocket, protocol: string): Promise<{ size?: { width: number; height: number }; early: Buffer[] }> {
  let size: { width: number; height: number } | undefined;
  const early: Buffer[] = [];
  return new Promise((resolve) => {
    const t = setTimeout(done, TTY_SIZE_WAIT_MS);
    function done() {
      clearTimeout(t);
      ws.off('message', onMsg);
      ws.off('close', done);
      resolve({ size, early });
    }
    function onMsg(data: Buffer) {
      const msg = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      const m = parseIncoming(msg, protocol);
      if (m.kind === 'resize' && !size) {
        size = { width: m.width, height: m.height };
        done();
      } else early.push(msg);
    }
    ws.on('message', onMsg);
    ws.on('close', done);
  });
}
