import type WebSocket from 'ws';
import type { ApiClient } from '../../lib/client';
import { PODS, resourcePath } from '../../lib/resources';
import { connectWs } from './ws-connect';

/**
 * The client side of the remotecommand WebSocket protocol (`v5.channel.k8s.io`, falling back to
 * `v4.channel.k8s.io`): each binary message starts with its channel byte, 0 stdin, 1 stdout,
 * 2 stderr, 3 the closing Status, 4 terminal size; v5 adds 255 to close one of our streams.
 */

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;
const V5 = 'v5.channel.k8s.io';
const V4 = 'v4.channel.k8s.io';

/** How an exec ended, from the Status on channel 3. */
export type ExecResult = { kind: 'exit'; code: number } | { kind: 'error'; message: string };

/** Reads the Status the server sends on channel 3 (pure). */
export function execResult(statusJson: string | undefined): ExecResult {
  if (statusJson === undefined) return { kind: 'error', message: 'the connection closed before the command reported how it ended' };
  let s: { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
  try {
    s = JSON.parse(statusJson);
  } catch {
    return { kind: 'error', message: `unreadable status from the server: ${statusJson.slice(0, 200)}` };
  }
  if (s.status === 'Success') return { kind: 'exit', code: 0 };
  if (s.reason === 'NonZeroExitCode') {
    const cause = (s.details?.causes ?? []).find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return { kind: 'exit', code };
    return { kind: 'error', message: `Internal error occurred: unable to read the exit code: ${s.message ?? ''}` };
  }
  return { kind: 'error', message: s.message ?? 'the command failed' };
}

export function resizeFrame(width: number, height: number): Buffer {
  return Buffer.concat([Buffer.from([RESIZE]), Buffer.from(JSON.stringify({ Width: width, Height: height }))]);
}

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  tty?: boolean;
  /** With a TTY: the first size and a way to learn of later ones. */
  size?: () => { width: number; height: number } | undefined;
  onResize?: (listener: () => void) => () => void;
}

/**
 * Runs a command in a container through the apiserver and resolves with how it ended.
 * Output is written as it arrives (the socket pauses while a writer is full); stdin is sent
 * until it ends, then closed (v5) so the command sees EOF.
 */
export async function execInPod(client: ApiClient, r: ExecRequest): Promise<ExecResult> {
  const query: [string, string][] = [['container', r.container]];
  for (const c of r.command) query.push(['command', c]);
  query.push(['stdin', String(!!r.stdin)], ['stdout', String(!!r.stdout)], ['stderr', String(!!r.stderr && !r.tty)], ['tty', String(!!r.tty)]);
  const ws = await connectWs(client, resourcePath(PODS, { namespace: r.namespace, name: r.pod, subresource: 'exec' }), query, [V5, V4]);
  return pump(ws, r);
}

function pump(ws: WebSocket, r: ExecRequest): Promise<ExecResult> {
  const v5 = ws.protocol === V5;
  let status: string | undefined;
  const cleanups: (() => void)[] = [];
  const write = (out: NodeJS.WritableStream | undefined, data: Buffer) => {
    if (!out || data.length === 0) return;
    if (!out.write(data)) {
      ws.pause();
      out.once('drain', () => ws.resume());
    }
  };
  ws.on('message', (raw: Buffer) => {
    const msg = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as ArrayBuffer);
    if (msg.length === 0) return;
    const body = msg.subarray(1);
    if (msg[0] === STDOUT) write(r.stdout, body);
    else if (msg[0] === STDERR) write(r.stderr ?? r.stdout, body);
    else if (msg[0] === ERROR) status = (status ?? '') + body.toString('utf8');
  });
  const send = (b: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(b);
  };
  if (r.tty && r.size) {
    const first = r.size();
    if (first) send(resizeFrame(first.width, first.height));
    if (r.onResize) {
      cleanups.push(
        r.onResize(() => {
          const s = r.size!();
          if (s) send(resizeFrame(s.width, s.height));
        }),
      );
    }
  }
  if (r.stdin) {
    const input = r.stdin;
    const onData = (chunk: Buffer | string) => {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      if (b.length === 0) return;
      // Large input goes in pieces so one message stays well under the server's limit.
      for (let i = 0; i < b.length; i += 1 << 20) send(Buffer.concat([Buffer.from([STDIN]), b.subarray(i, i + (1 << 20))]));
    };
    const onEnd = () => {
      if (v5) send(Buffer.from([CLOSE, STDIN]));
    };
    input.on('data', onData);
    input.once('end', onEnd);
    cleanups.push(() => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.pause();
    });
  }
  return new Promise((resolve) => {
    const done = () => {
      for (const c of cleanups) c();
      resolve(execResult(status));
    };
    ws.once('close', done);
    ws.on('error', () => undefined);
  });
}
