import { readFile } from 'node:fs/promises';
import net from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type Docker from 'dockerode';
import type { Logger } from '../../lib/log';
import {
  LABEL_CONTAINER_NAME,
  LABEL_NODE,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  LABEL_RESTART_COUNT,
  SANDBOX_CONTAINER_NAME,
} from '../runtime';
import { sandboxIP } from '../docker-runtime';
import { ByteLimiter, DockerDemuxer, dockerLogOptions } from './docker-streams';
import type { ExecInput, ExecOutput, ExecStart, LogsRequest, PodRef, PortForwardInput, PortForwardOutput } from '../api/proto';

/**
 * The kubelet streaming service over Docker: logs, exec, port-forward and stats of the
 * containers this kubelet runs (found by their labels). Errors reach the apiserver as gRPC
 * statuses: NOT_FOUND (no such container), FAILED_PRECONDITION (not running), INVALID_ARGUMENT.
 */

export interface StreamingDeps {
  docker: Docker;
  nodeName: string;
  /** Address of this node, for host-network pods. */
  nodeIP: string;
  log: Logger;
}

type GrpcError = Error & { code: grpc.status; details: string };
function grpcError(code: grpc.status, message: string): GrpcError {
  return Object.assign(new Error(message), { code, details: message });
}

function restartCount(c: Docker.ContainerInfo): number {
  return Number(c.Labels?.[LABEL_RESTART_COUNT] ?? 0) || 0;
}

export class KubeletStreamingService {
  constructor(private readonly d: StreamingDeps) {}

  /** The pod's containers named `container`, newest instance first. */
  async instances(pod: PodRef, container: string): Promise<Docker.ContainerInfo[]> {
    const label = [
      `${LABEL_POD_NAMESPACE}=${pod.namespace}`,
      `${LABEL_POD_NAME}=${pod.name}`,
      `${LABEL_CONTAINER_NAME}=${container}`,
      `${LABEL_NODE}=${this.d.nodeName}`,
    ];
    if (pod.uid) label.push(`${LABEL_POD_UID}=${pod.uid}`);
    const list = await this.d.docker.listContainers({ all: true, filters: { label } });
    return list.sort((a, b) => restartCount(b) - restartCount(a) || b.Created - a.Created);
  }

  private async pick(pod: PodRef, container: string, previous: boolean): Promise<Docker.ContainerInfo> {
    const list = await this.instances(pod, container);
    // Like kubelet's lastState: the newest dead instance. While the current one runs, that is the one
    // before it; in a crash loop it is the current one (container GC keeps one dead instance by default).
    const c = !previous ? list[0] : list[0] && list[0].State !== 'running' && list[0].State !== 'created' ? list[0] : list[1];
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
      const info = await this.pick(r.pod, r.container, !!r.previous);
      const c = this.d.docker.getContainer(info.Id);
      const tty = !!(await c.inspect()).Config?.Tty;
      // tail_lines < 0 means all lines (the apiserver sends -1 when tailLines is absent).
      const tail = Number(r.tail_lines ?? -1);
      const opts = dockerLogOptions({ follow: r.follow, tailLines: tail >= 0 ? tail : undefined, sinceUnix: r.since_unix, timestamps: r.timestamps });
      const limiter = new ByteLimiter(Number(r.limit_bytes) || 0);
      // An empty first chunk tells the apiserver the container was found: it then sends its 200.
      call.write({ data: Buffer.alloc(0) });
      const demux = tty ? undefined : new DockerDemuxer();
      const send = (buf: Buffer): boolean => {
        const chunks = demux ? demux.push(buf).map((f) => f.data) : [buf];
        let ok = true;
        for (const ch of chunks) {
          const out = limiter.take(ch);
          if (out.length) ok = call.write({ data: out }) && ok;
          if (limiter.done) return ok;
        }
        return ok;
      };
      if (!opts.follow) {
        const buf = (await c.logs({ ...opts, follow: false } as any)) as unknown as Buffer;
        send(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
        call.end();
        return;
      }
      const stream = (await c.logs({ ...opts, follow: true } as any)) as unknown as Readable;
      await new Promise<void>((resolve) => {
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
          const ok = send(chunk);
          if (limiter.done) return finish();
          if (!ok) {
            stream.pause();
            call.once('drain', () => stream.resume());
          }
        });
        stream.on('end', finish);
        stream.on('error', finish);
      });
      if (!call.cancelled) call.end();
    } catch (err) {
      this.fail(call, err);
    }
  }

  private fail(call: grpc.ServerWritableStream<any, any> | grpc.ServerDuplexStream<any, any>, err: unknown): void {
    const e = err as Partial<GrpcError> & { statusCode?: number; json?: { message?: string } };
    const code = e.code !== undefined && typeof e.code === 'number' ? e.code : e.statusCode === 404 ? grpc.status.NOT_FOUND : grpc.status.INTERNAL;
    const details = e.details ?? e.json?.message ?? e.message ?? String(err);
    this.d.log.debug({ code, details }, 'streaming call failed');
    call.emit('error', { code, details });
  }

  // ------------------------------------------------------------------ exec

  exec(call: grpc.ServerDuplexStream<ExecInput, ExecOutput>): void {
    let sock: Duplex | undefined;
    let exec: Docker.Exec | undefined;
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
      const a = m as any;
      if (a.msg === 'stdin' && a.stdin) {
        if (stdinWanted && sock && !sock.writableEnded) sock.write(a.stdin);
      } else if (a.msg === 'stdin_close') {
        if (sock && !sock.writableEnded) sock.end();
      } else if (a.msg === 'resize' && a.resize && exec) {
        exec.resize({ h: a.resize.height, w: a.resize.width }).catch(() => undefined);
      }
    };
    const begin = async (s: ExecStart) => {
      if (!s?.command?.length) throw grpcError(grpc.status.INVALID_ARGUMENT, 'you must specify at least one command for the container');
      const info = await this.pick(s.pod, s.container, false);
      if (info.State !== 'running') throw grpcError(grpc.status.FAILED_PRECONDITION, `container ${s.container} is not running (state: ${info.State})`);
      stdinWanted = !!s.stdin;
      const size = s.tty && s.size?.width && s.size?.height ? [s.size.height, s.size.width] : undefined;
      exec = await this.d.docker.getContainer(info.Id).exec({
        Cmd: s.command,
        AttachStdin: stdinWanted,
        AttachStdout: s.stdout !== false,
        AttachStderr: s.stderr !== false && !s.tty,
        Tty: !!s.tty,
        ...(size ? { ConsoleSize: size } : {}),
      } as Docker.ExecCreateOptions);
      sock = (await exec.start({ hijack: true, stdin: stdinWanted, Tty: !!s.tty, ...(size ? { ConsoleSize: size } : {}) } as Docker.ExecStartOptions)) as unknown as Duplex;
      // Docker before API 1.42 ignores ConsoleSize: size the TTY at once (a very fast command may still see 0x0).
      if (size) exec.resize({ h: size[0], w: size[1] }).catch(() => undefined);
      call.write({ msg: 'started', started: true });
      const demux = s.tty ? undefined : new DockerDemuxer();
      sock.on('data', (chunk: Buffer) => {
        if (ended) return;
        if (!demux) {
          call.write({ msg: 'stdout', stdout: chunk });
          return;
        }
        for (const f of demux.push(chunk)) call.write(f.stream === 2 ? { msg: 'stderr', stderr: f.data } : { msg: 'stdout', stdout: f.data });
      });
      const onClose = async () => {
        // The process ended (Docker closed the stream): read its exit code.
        let code = -1;
        for (let i = 0; i < 50; i++) {
          try {
            const st = await exec!.inspect();
            if (!st.Running && st.ExitCode !== null && st.ExitCode !== undefined) {
              code = st.ExitCode;
              break;
            }
          } catch {
            break;
          }
          await new Promise((r) => setTimeout(r, 20 * Math.min(i + 1, 10)));
        }
        finish({ exit_code: code, error: code < 0 ? 'could not read the exit code of the process' : '' });
      };
      let closed = false;
      const once = () => {
        if (closed) return;
        closed = true;
        void onClose();
      };
      sock.on('end', once);
      sock.on('close', once);
      sock.on('error', once);
      for (const m of queue.splice(0)) handle(m);
      if (clientEnded && stdinWanted && !sock.writableEnded) sock.end();
    };

    call.on('data', (m: ExecInput) => {
      if (!started) {
        started = true;
        if ((m as any).msg !== 'start' || !(m as any).start) {
          finish({ exit_code: -1, error: 'the first message of an exec must be start' });
          return;
        }
        begin((m as any).start).catch((err) => {
          if (ended) return;
          ended = true;
          this.fail(call, err);
        });
        return;
      }
      if (!sock) queue.push(m);
      else handle(m);
    });
    call.on('end', () => {
      clientEnded = true;
      if (sock && stdinWanted && !sock.writableEnded) sock.end();
    });
    call.on('cancelled', () => {
      ended = true;
      sock?.destroy();
    });
    call.on('error', () => {
      ended = true;
      sock?.destroy();
    });
  }

  // ------------------------------------------------------------------ port-forward

  /** The pod's IP: its running sandbox's address on the pod network (the node's for host-network pods). */
  async podIP(pod: PodRef): Promise<string> {
    const [sandbox] = (await this.instances(pod, SANDBOX_CONTAINER_NAME)).filter((c) => c.State === 'running');
    if (!sandbox) throw grpcError(grpc.status.NOT_FOUND, `pod "${pod.name}" has no running sandbox on this node`);
    if (sandbox.HostConfig?.NetworkMode === 'host') return '127.0.0.1';
    const ip = sandboxIP(sandbox.Labels, sandbox.NetworkSettings?.Networks);
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
      if ((m as any).msg === 'data' && (m as any).data) sock?.write((m as any).data);
      else if ((m as any).msg === 'close_write') sock?.end();
    };
    call.on('data', (m: PortForwardInput) => {
      if (!started) {
        started = true;
        const s = (m as any).start as { pod: PodRef; port: number } | undefined;
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
    const label = [`${LABEL_NODE}=${this.d.nodeName}`];
    if (pod?.namespace) label.push(`${LABEL_POD_NAMESPACE}=${pod.namespace}`);
    if (pod?.name) label.push(`${LABEL_POD_NAME}=${pod.name}`);
    const list = (await this.d.docker.listContainers({ all: false, filters: { label } })).filter((c) => c.State === 'running');
    const byPod = new Map<string, Docker.ContainerInfo[]>();
    for (const c of list) {
      const key = `${c.Labels[LABEL_POD_NAMESPACE]}/${c.Labels[LABEL_POD_NAME]}/${c.Labels[LABEL_POD_UID] ?? ''}`;
      byPod.set(key, [...(byPod.get(key) ?? []), c]);
    }
    const pods = [];
    for (const [key, cs] of byPod) {
      const [namespace, name, uid] = key.split('/');
      const samples = await Promise.all(cs.map(async (c) => ({ c, s: await this.d.docker.getContainer(c.Id).stats({ stream: false }).catch(() => undefined) })));
      const containers = [];
      const podCpu = { usage_core_nano_seconds: 0, usage_nano_cores: 0 };
      const podMem = { usage_bytes: 0, working_set_bytes: 0, limit_bytes: 0 };
      let network = { rx_bytes: 0, tx_bytes: 0, rx_errors: 0, tx_errors: 0 };
      for (const { c, s } of samples) {
        if (!s) continue;
        const cpu = containerCpu(s);
        const mem = containerMemory(s);
        if (c.Labels[LABEL_CONTAINER_NAME] === SANDBOX_CONTAINER_NAME) {
          // Docker knows nothing of the interface the kubelet wired: read the sandbox namespace's counters.
          const pid = (await this.d.docker.getContainer(c.Id).inspect().catch(() => undefined))?.State?.Pid;
          const dev = pid ? await readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => undefined) : undefined;
          network = dev !== undefined ? netDevStats(dev) : containerNetwork(s);
        } else {
          containers.push({ name: c.Labels[LABEL_CONTAINER_NAME], start_time: new Date(c.Created * 1000).toISOString(), cpu, memory: mem });
        }
        podCpu.usage_core_nano_seconds += cpu.usage_core_nano_seconds;
        podCpu.usage_nano_cores += cpu.usage_nano_cores;
        podMem.usage_bytes += mem.usage_bytes;
        podMem.working_set_bytes += mem.working_set_bytes;
      }
      pods.push({ pod: { namespace, name, uid }, time: new Date().toISOString(), containers, cpu: podCpu, memory: podMem, network });
    }
    return { node_name: this.d.nodeName, pods };
  }
}

/** CPU of one Docker stats sample: cumulative time and the rate between its two readings. */
export function containerCpu(s: any): { usage_core_nano_seconds: number; usage_nano_cores: number } {
  const total = Number(s?.cpu_stats?.cpu_usage?.total_usage ?? 0);
  const preTotal = Number(s?.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const t = Date.parse(s?.read ?? '');
  const preT = Date.parse(s?.preread ?? '');
  let rate = 0;
  if (Number.isFinite(t) && Number.isFinite(preT) && t > preT && preTotal > 0) rate = Math.max(0, Math.round(((total - preTotal) / ((t - preT) * 1e6)) * 1e9));
  return { usage_core_nano_seconds: total, usage_nano_cores: rate };
}

/** Memory of one Docker stats sample; working set = usage minus inactive file pages (as cAdvisor). */
export function containerMemory(s: any): { usage_bytes: number; working_set_bytes: number; limit_bytes: number } {
  const usage = Number(s?.memory_stats?.usage ?? 0);
  const st = s?.memory_stats?.stats ?? {};
  const inactive = Number(st.inactive_file ?? st.total_inactive_file ?? 0);
  return { usage_bytes: usage, working_set_bytes: Math.max(0, usage - inactive), limit_bytes: Number(s?.memory_stats?.limit ?? 0) };
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

export function containerNetwork(s: any): { rx_bytes: number; tx_bytes: number; rx_errors: number; tx_errors: number } {
  const out = { rx_bytes: 0, tx_bytes: 0, rx_errors: 0, tx_errors: 0 };
  for (const n of Object.values<any>(s?.networks ?? {})) {
    out.rx_bytes += Number(n.rx_bytes ?? 0);
    out.tx_bytes += Number(n.tx_bytes ?? 0);
    out.rx_errors += Number(n.rx_errors ?? 0);
    out.tx_errors += Number(n.tx_errors ?? 0);
  }
  return out;
}
