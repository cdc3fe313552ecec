import { PassThrough, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { ExecResult, ExecSession, ExecStreamOptions } from '../runtime';
import { DockerDemuxer } from './streams';
import { sleep } from '../../lib/sleep';

/**
 * An interactive Docker exec (kubelet API exec) as an `ExecSession`: a hijacked
 * stream, demultiplexed unless it is a TTY; the exit code read from exec inspect
 * once Docker closes the stream.
 */
export async function startExecSession(container: Docker.Container, o: ExecStreamOptions, onOutput: (stream: 'stdout' | 'stderr', data: Buffer) => void): Promise<ExecSession> {
  const size = o.tty && o.size?.width && o.size?.height ? [o.size.height, o.size.width] : undefined;
  const exec = await container.exec({
    Cmd: o.cmd,
    AttachStdin: o.stdin,
    AttachStdout: o.stdout,
    AttachStderr: o.stderr && !o.tty,
    Tty: o.tty,
    ...(size ? { ConsoleSize: size } : {}),
  } as Docker.ExecCreateOptions);
  const sock = (await exec.start({ hijack: true, stdin: o.stdin, Tty: o.tty, ...(size ? { ConsoleSize: size } : {}) } as Docker.ExecStartOptions)) as unknown as Duplex;
  const resize = (s: { width: number; height: number }) => void exec.resize({ h: s.height, w: s.width }).catch(() => undefined);
  // Docker before API 1.42 ignores ConsoleSize: size the TTY at once (a very fast command may still see 0x0).
  if (size) resize({ width: size[1], height: size[0] });
  const demux = o.tty ? undefined : new DockerDemuxer();
  sock.on('data', (chunk: Buffer) => {
    if (!demux) return onOutput('stdout', chunk);
    for (const f of demux.push(chunk)) onOutput(f.stream === 2 ? 'stderr' : 'stdout', f.data);
  });
  const exited = new Promise<number>((resolve) => {
    let closed = false;
    const once = () => {
      if (closed) return;
      closed = true;
      void exitCode(exec).then(resolve);
    };
    sock.on('end', once);
    sock.on('close', once);
    sock.on('error', once);
  });
  return {
    write: (data) => {
      if (o.stdin && !sock.writableEnded) sock.write(data);
    },
    closeStdin: () => {
      if (!sock.writableEnded) sock.end();
    },
    resize,
    exited,
    destroy: () => sock.destroy(),
  };
}

/** The exit code of an ended exec; Docker may record it a moment after closing the stream (-1 if never). */
async function exitCode(exec: Docker.Exec): Promise<number> {
  for (let i = 0; i < 50; i++) {
    try {
      const st = await exec.inspect();
      if (!st.Running && st.ExitCode !== null && st.ExitCode !== undefined) return st.ExitCode;
    } catch {
      return -1;
    }
    await sleep(20 * Math.min(i + 1, 10));
  }
  return -1;
}

/** A non-interactive command (probes, hooks): its output (first 8 KiB) and exit code, or timedOut after `timeoutMs`. */
export async function runExecCommand(docker: Docker, id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  let size = 0;
  const sink = new PassThrough();
  sink.on('data', (b: Buffer) => {
    if (size < 8192) chunks.push(b);
    size += b.length;
  });
  docker.modem.demuxStream(stream, sink, sink);
  const finished = new Promise<boolean>((resolve) => {
    stream.on('end', () => resolve(false));
    stream.on('close', () => resolve(false));
    stream.on('error', () => resolve(false));
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([finished, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)))]);
  clearTimeout(timer);
  const output = Buffer.concat(chunks).toString('utf8').slice(0, 8192);
  if (timedOut) {
    (stream as unknown as { destroy?: () => void }).destroy?.();
    return { exitCode: -1, output, timedOut: true };
  }
  // The stream can end a moment before Docker records the exit code.
  for (let i = 0; i < 20; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return { exitCode: info.ExitCode ?? -1, output, timedOut: false };
    await sleep(25);
  }
  return { exitCode: -1, output, timedOut: false };
}
