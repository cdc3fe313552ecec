import type { Container, LifecycleHandler } from 'kubernetes-types/core/v1';
import { httpGetOnce, type ProbeOutcome } from './prober';
import type { ContainerRuntime } from './runtime';

/** Runs a lifecycle handler (postStart, preStop: exec, httpGet, sleep) against a container, within `timeoutMs`. */
export async function runLifecycleHook(
  runtime: ContainerRuntime,
  h: LifecycleHandler,
  spec: Container,
  containerId: string,
  podIP: string | undefined,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  if (h.exec) {
    const r = await runtime.execCommand(containerId, h.exec.command ?? [], timeoutMs).catch((err: Error) => ({ exitCode: -1, output: err.message, timedOut: false }));
    if (r.timedOut) return { ok: false, message: `command ${JSON.stringify(h.exec.command)} timed out` };
    return r.exitCode === 0 ? { ok: true, message: '' } : { ok: false, message: `command ${JSON.stringify(h.exec.command)} exited with ${r.exitCode}: ${r.output.trim().slice(0, 200)}` };
  }
  if (h.httpGet) {
    const g = h.httpGet;
    const port = typeof g.port === 'number' ? g.port : /^\d+$/.test(g.port) ? Number(g.port) : spec.ports?.find((p) => p.name === g.port)?.containerPort;
    const host = g.host || podIP;
    if (!port || !host) return { ok: false, message: `httpGet: cannot resolve ${host ?? 'pod IP'}:${g.port}` };
    const url = new URL(`${(g.scheme ?? 'HTTP').toLowerCase()}://${host}:${port}${g.path ?? '/'}`);
    const headers: Record<string, string> = {};
    for (const x of g.httpHeaders ?? []) headers[x.name] = x.value;
    return httpGetOnce(url, headers, timeoutMs);
  }
  if (h.sleep) {
    await new Promise((r) => setTimeout(r, Math.min(h.sleep!.seconds * 1000, timeoutMs)));
    return { ok: true, message: '' };
  }
  return { ok: false, message: 'lifecycle handler type not supported' };
}
