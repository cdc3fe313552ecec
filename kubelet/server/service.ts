import { readFile } from 'node:fs/promises';
import net from 'node:net';
import type { Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../lib/log';
import type { ExecInput, ExecOutput, ExecStart, LogsRequest, PodRef, PortForwardInput, PortForwardOutput } from '../api/proto';
import {
  LABEL_CONTAINER_NAME,
  LABEL_NODE,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  SANDBOX_CONTAINER_NAME,
  type ContainerRuntime,
  type ContainerStats,
  type ExecSession,
  type RuntimeContainer,
} from '../runtime';
import { ByteLimiter } from './byte-limiter';
import { readNodeStats } from './node-stats';

/**
 * The kubelet streaming service over the container runtime: logs, exec, port-forward and
 * stats of the containers this kubelet runs (found by their labels). Errors reach the
 * apiserver as gRPC statuses: NOT_FOUND (no such container), FAILED_PRECONDITION (not
 * running), INVALID_ARGUMENT.
 */

export interface StreamingDeps {
  runtime: ContainerRuntime;
  nodeName: string;
  /** Address of this node, for host-network pods. */
  nodeIP: string;
  log: Logger;
}

type GrpcError = Error & { code: grpc.status; details: string };
function grpcError(code: grpc.status, message: string): GrpcError {
  return Object.assign(new Error(message), { code, details: message });
}

/** A server call of any of the service's streaming methods (the part `fail` uses). */
type StreamingCall = Pick<grpc.ServerWritableStream<unknown, unknown>, 'emit'>;

export class KubeletStreamingService {
  constructor(private readonly d: StreamingDeps) {}

  /** The pod's containers named `container`, newest instance first. */
  async instances(pod: PodRef, container: string): Promise<RuntimeContainer[]> {
    const labels: Record<string, string> = {
      [LABEL_POD_NAMESPACE]: pod.namespace,
      [LABEL_POD_NAME]: pod.name,
      [LABEL_CONTAINER_NAME]: container,
      [LABEL_NODE]: this.d.nodeName,
    };
    if (pod.uid) labels[LABEL_POD_UID] = pod.uid;
    const list = await this.d.runtime.listContainers(labels);
    return list.sort((a, b) => b.restartCount - a.restartCount || Date.parse(b.createdAt) - Date.parse(a.createdAt));
  }

  private async pick(pod: PodRef, container: string, previous: boolean): Promise<RuntimeContainer> {
    const list = await this.instances(pod, container);
    // Like kubelet's lastState: the newest dead instance. While the current one runs, that is the one
    // before it; in a crash loop it is the current one (container GC keeps one dead instance by default).
    const c = !previous ? list[0] : list[0] && list[0].state !== 'running' && list[0].state !== 'created' ? list[0] : list[1];
    if (!c) {
      throw grpcError(grpc.status.NOT_FOUND, previous
        ? `previous terminated container "${container}" in pod "${pod.name}" not found`
        : `container "${container}" in pod "${pod.name}" is not available`);
    }
    return c;
  }

  // ------------------------------------------------------------------ logs

  async logs(call: grpc.ServerWritableStream<LogsRequest, { data: Buffer }>): Promise<void> {
    const r = call.request;
    try {
      const c = await this.pick(r.pod, r.container, !!r.previous);
      // tail_lines < 0 means all lines (the apiserver sends -1 when tailLines is absent).
      const tail = Number(r.tail_lines ?? -1);
      const stream = await this.d.runtime.containerLogs(c.id, { follow: r.follow, tailLines: tail >= 0 ? tail : undefined, sinceUnix: r.since_unix, timestamps: r.timestamps });
      // An empty first chunk tells the apiserver the container was found: it then sends its 200.
      call.write({ data: Buffer.alloc(0) });
      await this.pump(stream, call, new ByteLimiter(Number(r.limit_bytes) || 0));
      if (!call.cancelled) call.end();
    } catch (err) {
      this.fail(call, err);
    }
  }

  /** Copies a log stream to the call (with backpressure) until either ends or the byte limit is reached. */
  private pump(stream: Readable, call: grpc.ServerWritableStream<LogsRequest, { data: Buffer }>, limiter: ByteLimiter): Promise<void> {
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        stream.destroy();
        resolve();
      };
      call.on('cancelled', finish);
      call.on('close', finish);
      stream.on('data', (chunk: Buffer) => {
        if (done) return;
        const out = limiter.take(chunk);
        const ok = out.length ? call.write({ data: out }) : true;
        if (limiter.done) return finish();
        if (!ok) {
          stream.pause();
          call.once('drain', () => stream.resume());
        }
      });
      stream.on('end', finish);
      stream.on('error', finish);
    });
  }

  private fail(call: StreamingCall, err: unknown): void {
    const e = err as Partial<GrpcError> & { statusCode?: number; json?: { message?: string } };
    const code = e.code !== undefined && typeof e.code === 'number' ? e.code : e.statusCode === 404 ? grpc.status.NOT_FOUND : grpc.status.INTERNAL;
    const details = e.details ?? e.json?.message ?? e.message ?? String(err);
    this.d.log.debug({ code, details }, 'streaming call failed');
    call.emit('error', { code, details });
  }

  // ------------------------------------------------------------------ exec

  exec(call: grpc.ServerDuplexStream<ExecInput, ExecOutput>): void {
    let session: ExecSession | undefined;
    let started = false;
    let ended = false;
    const queue: ExecInput[] = [];
    let clientEnded = false;
    let stdinWanted = false;

    const finish = (exit: { exit_code: number; error: string }) => {
      if (ended) return;
      ended = true;
      if (!call.cancelled) {
        call.write({ msg: 'exit', exit });
        call.end();
      }
    };
    const handle = (m: ExecInput) => {
      if ('stdin' in m && m.msg === 'stdin' && m.stdin) session?.write(m.stdin);
      else if (m.msg === 'stdin_close') session?.closeStdin();
      else if ('resize' in m && m.msg === 'resize' && m.resize) session?.resize(m.resize);
    };
    const begin = async (s: ExecStart) => {
      if (!s?.command?.length) throw grpcError(grpc.status.INVALID_ARGUMENT, 'you must specify at least one command for the container');
      const c = await this.pick(s.pod, s.container, false);
      if (c.state !== 'running') throw grpcError(grpc.status.FAILED_PRECONDITION, `container ${s.container} is not running (state: ${c.state})`);
      const stdin = (stdinWanted = !!s.stdin);
      session = await this.d.runtime.execStream(
        c.id,
        { cmd: s.command, stdin, stdout: s.stdout !== false, stderr: s.stderr !== false, tty: !!s.tty, size: s.size },
        (stream, data) => {
          if (!ended) call.write(stream === 'stderr' ? { msg: 'stderr', stderr: data } : { msg: 'stdout', stdout: data });
        },
      );
      call.write({ msg: 'started', started: true });
      void session.exited.then((code) => finish({ exit_code: code, error: code < 0 ? 'could not read the exit code of the process' : '' }));
      for (const m of queue.splice(0)) handle(m);
      if (clientEnded && stdin) session.closeStdin();
    };

    call.on('data', (m: ExecInput) => {
      if (!started) {
        started = true;
        if (m.msg !== 'start' || !('start' in m) || !m.start) {
          finish({ exit_code: -1, error: 'the first message of an exec must be start' });
          return;
        }
        begin(m.start).catch((err) => {
          if (ended) return;
          ended = true;
          this.fail(call, err);
        });
        return;
      }
      if (!session) queue.push(m);
      else handle(m);
    });
    call.on('end', () => {
      clientEnded = true;
      if (session && stdinWanted) session.closeStdin();
    });
    call.on('cancelled', () => {
      ended = true;
      session?.destroy();
    });
    call.on('error', () => {
      ended = true;
      session?.destroy();
    });
  }

  // ------------------------------------------------------------------ port-forward

  /** The pod's IP: its running sandbox's address on the pod network (the node's for host-network pods). */
  async podIP(pod: PodRef): Promise<string> {
    const [sandbox] = (await this.instances(pod, SANDBOX_CONTAINER_NAME)).filter((c) => c.state === 'running');
    if (!sandbox) throw grpcError(grpc.status.NOT_FOUND, `pod "${pod.name}" has no running sandbox on this node`);
    if (sandbox.hostNetwork) return '127.0.0.1';
    const ip = sandbox.ip;
    if (!ip) throw grpcError(grpc.status.FAILED_PRECONDITION, `pod "${pod.name}" has no IP address`);
    return ip;
  }

  portForward(call: grpc.ServerDuplexStream<PortForwardInput, PortForwardOutput>): void {
    let sock: net.Socket | undefined;
    let started = false;
    let done = false;
    const queue: PortForwardInput[] = [];
    let clientEnded = false;
    const end = (error?: string) => {
      if (done) return;
      done = true;
      if (!call.cancelled) {
        if (error) call.write({ msg: 'error', error });
        call.end();
      }
      sock?.destroy();
    };
    const handle = (m: PortForwardInput) => {
      if ('data' in m && m.msg === 'data' && m.data) sock?.write(m.data);
      else if (m.msg === 'close_write') sock?.end();
    };
    call.on('data', (m: PortForwardInput) => {
      if (!started) {
        started = true;
        const s = 'start' in m ? m.start : undefined;
        if (!s || !s.port) return end('the first message of a port-forward must be start with a port');
        this.podIP(s.pod).then((ip) => {
          if (done) return;
          const c = net.connect({ host: ip, port: s.port });
          c.on('connect', () => {
            sock = c;
            call.write({ msg: 'connected', connected: true });
            for (const q of queue.splice(0)) handle(q);
            if (clientEnded) c.end();
          });
          c.on('data', (chunk: Buffer) => {
            if (!done && !call.write({ msg: 'data', data: chunk })) {
              c.pause();
              call.once('drain', () => c.resume());
            }
          });
          c.on('error', (err) => end(`error forwarding port ${s.port} to pod ${s.pod.name}: ${err.message}`));
          c.on('close', () => end());
        }, (err) => end((err as Error).message));
        return;
      }
      if (!sock) queue.push(m);
      else handle(m);
    });
    call.on('end', () => {
      clientEnded = true;
      sock?.end();
    });
    call.on('cancelled', () => end());
    call.on('error', () => end());
  }

  // ------------------------------------------------------------------ stats

  async stats(pod?: PodRef): Promise<unknown> {
    const labels: Record<string, string> = { [LABEL_NODE]: this.d.nodeName };
    if (pod?.namespace) labels[LABEL_POD_NAMESPACE] = pod.namespace;
    if (pod?.name) labels[LABEL_POD_NAME] = pod.name;
    const list = (await this.d.runtime.listContainers(labels)).filter((c) => c.state === 'running');
    const byPod = new Map<string, RuntimeContainer[]>();
    for (const c of list) {
      const key = `${c.podNamespace}/${c.podName}/${c.podUid}`;
      byPod.set(key, [...(byPod.get(key) ?? []), c]);
    }
    // Pods (and their containers) are sampled at once: the runtime answers each container on its own.
    const podStats = [...byPod].map(async ([key, cs]) => {
      const [namespace, name, uid] = key.split('/');
      const samples = await Promise.all(cs.map(async (c) => ({ c, s: await this.d.runtime.containerStats(c.id).catch((): ContainerStats | undefined => undefined) })));
      const containers = [];
      const podCpu = { usage_core_nano_seconds: 0, usage_nano_cores: 0 };
      const podMem = { usage_bytes: 0, working_set_bytes: 0, limit_bytes: 0 };
      let network = { rx_bytes: 0, tx_bytes: 0, rx_errors: 0, tx_errors: 0 };
      for (const { c, s } of samples) {
        if (!s) continue;
        if (c.containerName === SANDBOX_CONTAINER_NAME) {
          // The runtime knows nothing of the interface the kubelet wired: read the sandbox namespace's counters.
          const dev = c.pid ? await readFile(`/proc/${c.pid}/net/dev`, 'utf8').catch(() => undefined) : undefined;
          network = dev !== undefined ? netDevStats(dev) : s.network;
        } else {
          // Second precision, as the runtime's container listing reports creation.
          const start = Math.floor(Date.parse(c.createdAt) / 1000) * 1000;
          containers.push({ name: c.containerName, start_time: new Date(start).toISOString(), cpu: s.cpu, memory: s.memory, time: s.time ?? new Date().toISOString() });
        }
        podCpu.usage_core_nano_seconds += s.cpu.usage_core_nano_seconds;
        podCpu.usage_nano_cores += s.cpu.usage_nano_cores;
        podMem.usage_bytes += s.memory.usage_bytes;
        podMem.working_set_bytes += s.memory.working_set_bytes;
      }
      return { pod: { namespace, name, uid }, time: new Date().toISOString(), containers, cpu: podCpu, memory: podMem, network };
    });
    const [pods, node] = await Promise.all([Promise.all(podStats), readNodeStats()]);
    return { node_name: this.d.nodeName, pods, ...(node ? { node } : {}) };
  }
}

/** Sums the counters of every interface but `lo` in a /proc/<pid>/net/dev listing. */
export function netDevStats(text: string): { rx_bytes: number; tx_bytes: number; rx_errors: number; tx_errors: number } {
  const out = { rx_bytes: 0, tx_bytes: 0, rx_errors: 0, tx_errors: 0 };
  for (const line of text.split('\n')) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    if (f.length < 16) continue;
    out.rx_bytes += f[0];
    out.rx_errors += f[2];
    out.tx_bytes += f[8];
    out.tx_errors += f[10];
  }
  return out;
}
