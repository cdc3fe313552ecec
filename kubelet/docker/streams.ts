/**
 * The Docker runtime's log streams: the log options mapping, Docker's multiplexed
 * stream format (8-byte frame headers, incremental and whole-buffer) and a
 * container's log as a plain byte stream.
 */

import { Readable, Transform } from 'node:stream';
import type Docker from 'dockerode';
import type { LogOptions } from '../api/log-options';

/** Docker's `GET /containers/{id}/logs` query for Kubernetes log options. */
export function dockerLogOptions(o: LogOptions): { follow: boolean; stdout: true; stderr: true; timestamps: boolean; tail: number | 'all'; since?: string } {
  const out: ReturnType<typeof dockerLogOptions> = {
    follow: !!o.follow,
    stdout: true,
    stderr: true,
    timestamps: !!o.timestamps,
    tail: o.tailLines !== undefined && o.tailLines >= 0 ? Math.floor(o.tailLines) : 'all',
  };
  if (o.sinceUnix && o.sinceUnix > 0) {
    // Docker takes "seconds[.nanoseconds]".
    const sec = Math.floor(o.sinceUnix);
    const nanos = Math.round((o.sinceUnix - sec) * 1e9);
    out.since = nanos > 0 ? `${sec}.${String(nanos).padStart(9, '0')}` : String(sec);
  }
  return out;
}

export type StreamId = 0 | 1 | 2;

/**
 * Splits Docker's multiplexed attach/logs stream (non-TTY containers) into frames:
 * each frame is [stream, 0, 0, 0, size (u32 big endian)] followed by `size` bytes.
 * Feed it chunks as they come; it returns the complete frames and keeps the rest.
 */
export class DockerDemuxer {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { stream: StreamId; data: Buffer }[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: { stream: StreamId; data: Buffer }[] = [];
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      const stream = this.buf[0] as StreamId;
      const data = this.buf.subarray(8, 8 + size);
      this.buf = this.buf.subarray(8 + size);
      if (size > 0) out.push({ stream: stream > 2 ? 1 : stream, data });
    }
    return out;
  }

  /** Bytes received that do not (yet) form a whole frame. */
  get pending(): number {
    return this.buf.length;
  }
}

/** Encodes one multiplexed frame (for tests and fakes). */
export function dockerFrame(stream: StreamId, data: Buffer | string): Buffer {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/**
 * The payload of Docker's multiplexed log stream (8-byte frame headers: stream,
 * 0, 0, 0, big-endian size); a TTY container's log is raw and returned as is.
 */
export function demuxLogs(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const stream = buf[i];
    if (stream > 2 || buf[i + 1] !== 0 || buf[i + 2] !== 0 || buf[i + 3] !== 0) return i === 0 ? buf : Buffer.concat(parts);
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return i === 0 && buf.length > 0 ? buf : Buffer.concat(parts);
}

/** A container's log as `ContainerRuntime.containerLogs` promises it: demultiplexed unless the container has a TTY. */
export async function containerLogStream(c: Docker.Container, options: LogOptions): Promise<Readable> {
  const tty = !!(await c.inspect()).Config?.Tty;
  // dockerode's type has no tail 'all', which the Engine API takes.
  const query = dockerLogOptions(options) as unknown as Docker.ContainerLogsOptions;
  const demux = tty ? undefined : new DockerDemuxer();
  if (!query.follow) {
    const buf = (await c.logs({ ...query, follow: false })) as unknown;
    const raw = Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf));
    return Readable.from(demux ? demux.push(raw).map((f) => f.data) : [raw]);
  }
  const stream = (await c.logs({ ...query, follow: true })) as unknown as Readable;
  if (!demux) return stream;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      for (const f of demux.push(chunk)) this.push(f.data);
      done();
    },
  });
  stream.on('error', (err) => out.destroy(err));
  out.on('close', () => stream.destroy());
  stream.pipe(out);
  return out;
}
