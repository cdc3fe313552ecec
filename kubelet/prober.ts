import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1';
import type { Logger } from '../lib/log';
import type { ProbeView } from './pod-status';
import type { ContainerRuntime, RuntimeContainer } from './runtime';
import { realClock, type Clock } from '../lib/clock';

/**
 * Liveness, readiness and startup probes (exec, httpGet, tcpSocket), one
 * worker per (container instance, probe kind), as kubelet's prober workers.
 * The threshold logic is the pure `stepProbe`; timing comes from an
 * injectable scheduler so tests can drive it.
 */

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export type ProbeOutcome = { ok: boolean; message: string };

export interface ProbeState {
  /** Current verdict: readiness starts false, liveness true, startup false. */
  result: boolean;
  successes: number;
  failures: number;
}

export function initialProbeState(kind: ProbeKind): ProbeState {
  return { result: kind === 'liveness', successes: 0, failures: 0 };
}

/** Applies one probe outcome under the probe's thresholds (successThreshold default 1, failureThreshold default 3). */
export function stepProbe(state: ProbeState, ok: boolean, probe: Probe): ProbeState {
  const successThreshold = Math.max(1, probe.successThreshold ?? 1);
  const failureThreshold = Math.max(1, probe.failureThreshold ?? 3);
  if (ok) {
    const successes = state.successes + 1;
    return { successes, failures: 0, result: state.result || successes >= successThreshold };
  }
  const failures = state.failures + 1;
  return { successes: 0, failures, result: state.result && failures < failureThreshold };
}

/** Runs one probe attempt against a container. */
export type ProbeRunner = (probe: Probe, target: { container: Container; containerId: string; podIP?: string }, timeoutMs: number) => Promise<ProbeOutcome>;

function resolvePort(port: number | string | undefined, c: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/** An HTTP GET: success for 200 ≤ status < 400, like kubelet. Exported for lifecycle hooks. */
export function httpGetOnce(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.get(url, { headers: { 'User-Agent': 'kube-probe/1.32', Accept: '*/*', ...headers }, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 400 ? { ok: true, message: `HTTP ${code}` } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
    });
    req.on('timeout', () => req.destroy(new Error(`Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
    req.on('error', (err) => resolve({ ok: false, message: err.message.startsWith('Get ') ? err.message : `Get "${url}": ${err.message}` }));
  });
}

function tcpOnce(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const t = setTimeout(() => {
      sock.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    }, timeoutMs);
    sock.on('connect', () => {
      clearTimeout(t);
      sock.destroy();
      resolve({ ok: true, message: 'connected' });
    });
    sock.on('error', (err) => {
      clearTimeout(t);
      resolve({ ok: false, message: `dial tcp ${host}:${port}: ${err.message}` });
    });
  });
}

/** The real probe runner: exec in the container, HTTP and TCP from the host to the pod IP. */
export function runtimeProbeRunner(runtime: ContainerRuntime): ProbeRunner {
  return async (probe, { container, containerId, podIP }, timeoutMs) => {
    if (probe.exec) {
      const r = await runtime.execCommand(containerId, probe.exec.command ?? [], timeoutMs).catch((err: Error) => ({ exitCode: -1, output: err.message, timedOut: false }));
      if (r.timedOut) return { ok: false, message: `command timed out after ${timeoutMs / 1000}s` };
      return r.exitCode === 0 ? { ok: true, message: r.output } : { ok: false, message: `command ${JSON.stringify(probe.exec.command)} exited with ${r.exitCode}: ${r.output.trim().slice(0, 200)}` };
    }
    if (probe.httpGet) {
      const g = probe.httpGet;
      const port = resolvePort(g.port, container);
      const host = g.host || podIP;
      if (!port || !host) return { ok: false, message: `httpGet: cannot resolve ${host ?? 'pod IP'}:${g.port}` };
      const url = new URL(`${(g.scheme ?? 'HTTP').toLowerCase()}://${host.includes(':') ? `[${host}]` : host}:${port}`);
      const p = g.path ?? '/';
      url.pathname = p.split('?')[0];
      if (p.includes('?')) url.search = p.slice(p.indexOf('?'));
      const headers: Record<string, string> = {};
      for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
      return httpGetOnce(url, headers, timeoutMs);
    }
    if (probe.tcpSocket) {
      const port = resolvePort(probe.tcpSocket.port, container);
      const host = probe.tcpSocket.host || podIP;
      if (!port || !host) return { ok: false, message: `tcpSocket: cannot resolve ${host ?? 'pod IP'}:${probe.tcpSocket.port}` };
      return tcpOnce(host, port, timeoutMs);
    }
    return { ok: false, message: 'probe type not supported (only exec, httpGet, tcpSocket)' };
  };
}

export interface ProberCallbacks {
  /** A probe's verdict changed: resync the pod (its status). */
  onChange(podUid: string): void;
  /** A liveness or startup probe failed `failureThreshold` times: the container must be restarted. */
  onFailure(pod: Pod, containerName: string, containerId: string, kind: ProbeKind, message: string): void;
  /** Each failed attempt (Kubernetes' Unhealthy event). */
  onUnhealthy(pod: Pod, containerName: string, kind: ProbeKind, message: string): void;
}

interface Worker {
  kind: ProbeKind;
  podUid: string;
  containerName: string;
  containerId: string;
  state: ProbeState;
  timer?: unknown;
  stopped: boolean;
}

export class ProbeManager {
  /** By `<containerId>/<kind>`. */
  private readonly workers = new Map<string, Worker>();
  /** Latest pod and pod IP for each pod uid, read by workers on every attempt. */
  private readonly pods = new Map<string, { pod: Pod; podIP?: string }>();

  constructor(
    private readonly runner: ProbeRunner,
    private readonly cb: ProberCallbacks,
    private readonly log: Logger,
    private readonly sched: Clock = realClock,
  ) {}

  /**
   * Ensures workers for the running instances of the pod's containers and stops the others.
   * A new worker for an instance the pod's status already reports (a restarted kubelet
   * adopting it) starts from the reported ready/started, so Endpoints do not flap.
   */
  sync(pod: Pod, running: RuntimeContainer[], podIP: string | undefined): void {
    const uid = pod.metadata!.uid!;
    this.pods.set(uid, { pod, podIP });
    const want = new Set<string>();
    for (const c of pod.spec?.containers ?? []) {
      const inst = running.find((r) => r.containerName === c.name && r.state === 'running');
      if (!inst) continue;
      for (const kind of ['startup', 'liveness', 'readiness'] as ProbeKind[]) {
        const probe = probeOf(c, kind);
        if (!probe) continue;
        const key = `${inst.id}/${kind}`;
        want.add(key);
        if (!this.workers.has(key)) {
          const reported = pod.status?.containerStatuses?.find((s) => s.name === c.name && s.containerID === `docker://${inst.id}`);
          const seed = kind === 'readiness' ? reported?.ready : kind === 'startup' ? reported?.started : undefined;
          this.startWorker(key, uid, c.name, inst, kind, probe, seed);
        }
      }
    }
    for (const [key, w] of this.workers) if (w.podUid === uid && !want.has(key)) this.stopWorker(key);
  }

  /** Stops every worker of a pod. */
  removePod(uid: string): void {
    this.pods.delete(uid);
    for (const [key, w] of this.workers) if (w.podUid === uid) this.stopWorker(key);
  }

  /** Probe verdicts of the pod's current container instances, by container name. */
  view(uid: string): Map<string, ProbeView> {
    const out = new Map<string, ProbeView>();
    for (const w of this.workers.values()) {
      if (w.podUid !== uid || w.kind === 'liveness') continue;
      const v = out.get(w.containerName) ?? {};
      if (w.kind === 'readiness') v.ready = w.state.result;
      else v.started = w.state.result;
      out.set(w.containerName, v);
    }
    return out;
  }

  stop(): void {
    for (const key of [...this.workers.keys()]) this.stopWorker(key);
  }

  private stopWorker(key: string): void {
    const w = this.workers.get(key);
    if (!w) return;
    w.stopped = true;
    if (w.timer !== undefined) this.sched.clearTimeout(w.timer);
    this.workers.delete(key);
  }

  private startWorker(key: string, uid: string, name: string, inst: RuntimeContainer, kind: ProbeKind, probe: Probe, seed?: boolean): void {
    const state = initialProbeState(kind);
    if (seed !== undefined) state.result = seed;
    const w: Worker = { kind, podUid: uid, containerName: name, containerId: inst.id, state, stopped: false };
    this.workers.set(key, w);
    const started = inst.startedAt ? Date.parse(inst.startedAt) : this.sched.now();
    const first = Math.max(0, started + (probe.initialDelaySeconds ?? 0) * 1000 - this.sched.now());
    w.timer = this.sched.setTimeout(() => void this.attempt(key, w), first);
  }

  private startupDone(w: Worker): boolean {
    const s = this.workers.get(`${w.containerId}/startup`);
    return !s || s.state.result;
  }

  private async attempt(key: string, w: Worker): Promise<void> {
    if (w.stopped) return;
    const entry = this.pods.get(w.podUid);
    const container = entry?.pod.spec?.containers?.find((c) => c.name === w.containerName);
    const probe = container && probeOf(container, w.kind);
    if (!entry || !container || !probe) return this.stopWorker(key);
    const period = Math.max(1, probe.periodSeconds ?? 10) * 1000;
    // Startup gates liveness and readiness; a startup probe that succeeded stops probing.
    if (w.kind === 'startup' && w.state.result) return;
    if (w.kind !== 'startup' && !this.startupDone(w)) {
      w.timer = this.sched.setTimeout(() => void this.attempt(key, w), period);
      return;
    }
    const outcome = await this.runner(probe, { container, containerId: w.containerId, podIP: entry.podIP }, Math.max(1, probe.timeoutSeconds ?? 1) * 1000).catch(
      (err: Error) => ({ ok: false, message: err.message }),
    );
    if (w.stopped) return;
    const before = w.state.result;
    w.state = stepProbe(w.state, outcome.ok, probe);
    if (!outcome.ok) {
      const label = w.kind[0].toUpperCase() + w.kind.slice(1);
      this.cb.onUnhealthy(entry.pod, w.containerName, w.kind, `${label} probe failed: ${outcome.message}`);
    }
    if (w.state.result !== before) {
      this.log.info({ pod: `${entry.pod.metadata?.namespace}/${entry.pod.metadata?.name}`, container: w.containerName, probe: w.kind, result: w.state.result }, 'probe result changed');
      this.cb.onChange(w.podUid);
    }
    const threshold = Math.max(1, probe.failureThreshold ?? 3);
    if ((w.kind === 'liveness' || w.kind === 'startup') && !outcome.ok && w.state.failures >= threshold) {
      this.stopWorker(key);
      const label = w.kind === 'liveness' ? 'failed liveness probe' : 'failed startup probe';
      this.cb.onFailure(entry.pod, w.containerName, w.containerId, w.kind, `Container ${w.containerName} ${label}, will be restarted`);
      return;
    }
    if (w.kind === 'startup' && w.state.result) {
      this.cb.onChange(w.podUid);
      return;
    }
    w.timer = this.sched.setTimeout(() => void this.attempt(key, w), period);
  }
}

function probeOf(c: Container, kind: ProbeKind): Probe | undefined {
  return kind === 'liveness' ? c.livenessProbe : kind === 'readiness' ? c.readinessProbe : c.startupProbe;
}
