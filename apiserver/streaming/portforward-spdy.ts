import type { SpdyServerSession, SpdyStream } from './spdy-session';
import { RST } from './spdy-frames';

/**
 * kubectl's port-forward over SPDY streams (`portforward.k8s.io`), as the kubelet serves it:
 * for every local connection the client opens two streams with headers `streamType: error`
 * and `streamType: data`, both with `port` and `requestID`. The server replies to each,
 * pairs them by requestID and relays the data stream to the pod's port; a failure is written
 * as text on the error stream. When the pod side ends, both streams get FIN (kubectl waits
 * for the error stream's end before it closes the local connection).
 */

/** The messages of one kubelet PortForward call (the gRPC stream's shape, no gRPC here). */
export interface ForwardCall {
  write(msg: { data: Buffer } | { close_write: true }): boolean;
  cancel(): void;
  pause(): void;
  resume(): void;
  on(ev: 'data', fn: (m: { msg?: string; data?: Buffer; error?: string }) => void): unknown;
  on(ev: 'error', fn: (err: Error & { code?: number }) => void): unknown;
  on(ev: 'end' | 'drain', fn: () => void): unknown;
  once(ev: 'drain', fn: () => void): unknown;
}

export interface PortForwardDeps {
  /** Starts a forward to `port` of the pod. */
  dial(port: number): ForwardCall;
  /** The text for a failed call (a gRPC status), or undefined when it was our own cancel. */
  errorText(err: Error & { code?: number }): string | undefined;
  /** How long the first stream of a request waits for its partner (the kubelet waits 30 s). */
  pairTimeoutMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

interface Pending {
  data?: SpdyStream;
  error?: SpdyStream;
  timer?: NodeJS.Timeout;
}

const STREAM_TYPE = 'streamtype';
const PORT = 'port';
const REQUEST_ID = 'requestid';

/**
 * The key that pairs a request's streams: the requestID header, or for clients that send
 * none, the error stream's id (its data stream comes next, two ids later).
 */
export function pairKey(stream: Pick<SpdyStream, 'id' | 'header'>): string {
  const id = stream.header(REQUEST_ID);
  if (id !== undefined && id !== '') return id;
  return `#${stream.header(STREAM_TYPE) === 'data' ? stream.id - 2 : stream.id}`;
}

/** The remote port of a request, or the reason it is not one. */
export function parsePortHeader(value: string | undefined): number | string {
  if (value === undefined || value === '') return 'the port header is missing';
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isInteger(n) || n < 1 || n > 65535) return `invalid port "${value}": must be an integer between 1 and 65535`;
  return n;
}

/** Serves port-forward requests on a SPDY session until it closes. */
export function servePortForwardSession(session: SpdyServerSession, deps: PortForwardDeps): void {
  const pending = new Map<string, Pending>();
  const active = new Set<ForwardCall>();
  const pairTimeout = deps.pairTimeoutMs ?? 30_000;

  session.on('stream', (stream) => {
    const type = stream.header(STREAM_TYPE);
    if (type !== 'data' && type !== 'error') {
      deps.log?.('port-forward stream of unknown type reset', { streamType: type });
      stream.reset(RST.PROTOCOL_ERROR);
      return;
    }
    stream.reply();
    const key = pairKey(stream);
    const p = pending.get(key) ?? {};
    if (p[type]) {
      deps.log?.('port-forward request sent a second stream of one type', { requestID: key, streamType: type });
      stream.reset(RST.PROTOCOL_ERROR);
      return;
    }
    p[type] = stream;
    pending.set(key, p);
    if (p.data && p.error) {
      clearTimeout(p.timer);
      pending.delete(key);
      forward(p.data, p.error);
    } else if (!p.timer) {
      p.timer = setTimeout(() => {
        pending.delete(key);
        p.error?.write(Buffer.from(`timed out waiting for the data and error streams of port-forward request ${key}`));
        for (const s of [p.data, p.error]) s?.end();
      }, pairTimeout);
      p.timer.unref?.();
    }
  });

  session.on('close', () => {
    for (const p of pending.values()) clearTimeout(p.timer);
    pending.clear();
    for (const c of active) c.cancel();
    active.clear();
  });

  function forward(data: SpdyStream, error: SpdyStream): void {
    const port = parsePortHeader(data.header(PORT));
    if (typeof port === 'string') {
      error.write(Buffer.from(port));
      error.end();
      data.end();
      return;
    }
    // The client reads nothing from the error stream but its end: drain what it sends.
    error.on('data', () => undefined);
    const call = deps.dial(port);
    active.add(call);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      active.delete(call);
      data.end();
      error.end();
    };
    let blocked = false;
    data.on('data', (chunk) => {
      if (done) return;
      if (!call.write({ data: chunk }) && !blocked) {
        blocked = true;
        session.pause();
        call.once('drain', () => {
          blocked = false;
          session.resume();
        });
      }
    });
    data.on('end', () => {
      if (!done) call.write({ close_write: true });
    });
    data.on('reset', () => {
      if (done) return;
      done = true;
      active.delete(call);
      if (blocked) session.resume();
      call.cancel();
      error.end();
    });
    let paused = false;
    call.on('data', (m) => {
      if (m.msg === 'data' && m.data?.length) {
        if (!data.write(m.data) && !paused) {
          paused = true;
          call.pause();
          session.once('drain', () => {
            paused = false;
            call.resume();
          });
        }
      } else if (m.msg === 'error' && m.error) {
        error.write(Buffer.from(m.error));
      }
    });
    call.on('error', (err) => {
      if (!done) {
        const text = deps.errorText(err);
        if (text) error.write(Buffer.from(text));
      }
      finish();
    });
    call.on('end', finish);
  }
}
