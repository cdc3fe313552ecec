/**
 * The small helpers every cross-process test needs: a free port, a wait on a
 * condition with a deadline, and a TCP request/response with half-close.
 */
import net from 'node:net';

/** A TCP port that was free a moment ago on `host` (the OS picks it). */
/** Whether a TCP port can be bound on `host` right now. */
function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * A TCP port that was free a moment ago, from 20000-29999: below the kernel's
 * ephemeral range (32768-60999 here) and the NodePort range, so no outgoing
 * connection can take it between the pick and the bind. (Port 0 handed out
 * ephemeral ports; a store peer connection once took the apiserver's port.)
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if (handedOut.has(port) || DEFAULT_PORTS.has(port)) continue;
    if ((await canBind(port, host)) && (await canBind(port, '0.0.0.0'))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free TCP port found in 20000-29999');
}

/** The default ports of `coxswain up` in that range: left to a developer's own cluster. */
const DEFAULT_PORTS = new Set([22379, 22380]);

/** Ports this process already handed out, so two picks never collide before they are bound. */
const handedOut = new Set<number>();

/**
 * Polls `probe` every `intervalMs` until it returns a value other than
 * undefined/false (and returns that value), or throws after `timeoutMs` with
 * the last error `probe` threw. Tests wait on conditions, never on sleeps.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Sends `payload`, half-closes, and returns everything the other side sent before closing. */
export function exchange(host: string, port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    s.on('connect', () => s.end(payload));
    s.on('data', (c) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}
