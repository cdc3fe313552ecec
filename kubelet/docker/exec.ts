import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { ExecSession, ExecStreamOptions } from '../runtime';
import { DockerDemuxer } from './streams';

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
    await new Promise((r) => setTimeout(r, 20 * Math.min(i + 1, 10)));
  }
  return -1;
}
