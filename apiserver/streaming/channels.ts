/**
 * The Kubernetes remotecommand WebSocket channel protocol (`v5.channel.k8s.io`,
 * `v4.channel.k8s.io`): every binary message starts with its channel byte.
 *   0 stdin · 1 stdout · 2 stderr · 3 error (a metav1.Status as JSON) · 4 resize
 *   ({"Width":w,"Height":h}) · 255 close (v5 only: `FF <channel>` closes that stream).
 * And the client-node port-forward protocol (`v4.channel.k8s.io` on /portforward): two
 * channels per port (2i data, 2i+1 error); the first message on each carries the port
 * as 2 bytes little endian.
 */

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
export const CLOSE = 255;

export const V5 = 'v5.channel.k8s.io';
export const V4 = 'v4.channel.k8s.io';
/** Subprotocols we speak, most preferred first. */
export const EXEC_PROTOCOLS = [V5, V4];
export const PORTFORWARD_PROTOCOLS = [V4, 'portforward.k8s.io'];

/** The first protocol we speak among those the client offers (Sec-WebSocket-Protocol), if any. */
export function selectProtocol(offered: Iterable<string> | string | undefined, supported: string[]): string | undefined {
  const list = typeof offered === 'string' ? offered.split(',').map((s) => s.trim()).filter(Boolean) : [...(offered ?? [])];
  return supported.find((p) => list.includes(p));
}

export function frame(channel: number, data: Buffer | string): Buffer {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  body.copy(out, 1);
  return out;
}

export type Incoming =
  | { kind: 'stdin'; data: Buffer }
  | { kind: 'resize'; width: number; height: number }
  | { kind: 'close'; channel: number }
  | { kind: 'ignore' };

/** Decodes one client → server message of an exec/attach stream. */
export function parseIncoming(msg: Buffer, protocol: string): Incoming {
  if (msg.length === 0) return { kind: 'ignore' };
  const ch = msg[0];
  const body = msg.subarray(1);
  if (ch === STDIN) return body.length ? { kind: 'stdin', data: body } : { kind: 'ignore' };
  if (ch === RESIZE) {
    try {
      const r = JSON.parse(body.toString());
      const width = Number(r.Width ?? r.width);
      const height = Number(r.Height ?? r.height);
      if (Number.isFinite(width) && Number.isFinite(height) && width >= 0 && height >= 0) return { kind: 'resize', width, height };
    } catch {
      // a bad resize message is ignored, as Kubernetes does
    }
    return { kind: 'ignore' };
  }
  if (ch === CLOSE && protocol === V5 && body.length >= 1) return { kind: 'close', channel: body[0] };
  return { kind: 'ignore' };
}

/** The channel-3 Status that ends an exec: Success, or NonZeroExitCode with the code as a cause. */
export function exitStatus(exitCode: number, command: string[] = []): Record<string, unknown> {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** The channel-3 Status for a failure that is not an exit code (no such container, runtime error). */
export function errorStatus(message: string): Record<string, unknown> {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}

/** The 2-byte little-endian port prefix of the first message on a port-forward channel. */
export function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}
