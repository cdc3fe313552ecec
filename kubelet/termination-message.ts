import { promises as fs } from 'node:fs';
import type { Logger } from '../lib/log';
import { SANDBOX_CONTAINER_NAME, type ContainerRuntime, type RuntimeContainer } from './runtime';

/** Kubernetes' limit on one container's termination message. */
const MAX_TERMINATION_MESSAGE_BYTES = 4096;

/**
 * Termination messages of dead containers, read once and cached in the pod's
 * record (a dead container's message never changes).
 */
export class TerminationMessages {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly log: Logger,
  ) {}

  /** The containers with the termination messages of the dead ones (file contents, or the log tail under FallbackToLogsOnError). */
  async attach(cache: Map<string, string>, observed: RuntimeContainer[]): Promise<RuntimeContainer[]> {
    return Promise.all(
      observed.map(async (c) => {
        if (c.state !== 'exited' || c.containerName === SANDBOX_CONTAINER_NAME) return c;
        let message = cache.get(c.id);
        if (message === undefined) {
          message = await this.read(c);
          cache.set(c.id, message);
        }
        return message ? { ...c, terminationMessage: message } : c;
      }),
    );
  }

  /** Like kubelet: at most 4 KiB of the file; when it is empty and the container failed, the last 80 lines / 2 KiB of its log. */
  private async read(c: RuntimeContainer): Promise<string> {
    let message = '';
    if (c.terminationMessageFile) {
      const fh = await fs.open(c.terminationMessageFile, 'r').catch(() => undefined);
      if (fh) {
        try {
          const buf = Buffer.alloc(MAX_TERMINATION_MESSAGE_BYTES);
          const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
          message = buf.subarray(0, bytesRead).toString('utf8');
        } finally {
          await fh.close();
        }
      }
    }
    if (!message && c.terminationMessagePolicy === 'FallbackToLogsOnError' && (c.exitCode ?? 0) !== 0) {
      message = await this.runtime.logTail(c.id, 80, 2048).catch((err: Error) => {
        this.log.warn({ container: c.name, err: err.message }, 'cannot read the log tail for the termination message');
        return '';
      });
    }
    return message;
  }
}
