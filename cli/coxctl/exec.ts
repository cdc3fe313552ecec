import type { ReadStream, WriteStream } from 'node:tty';
import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../../lib/client';
import { parseDuration } from '../../lib/duration';
import type { Ctx } from './context';
import { CliError, formatApiError } from './errors';
import { defaultContainer } from './pod-select';
import { findPod, TargetNotFound } from './pod-target';
import { execInPod, type ExecResult } from './remotecommand';

export interface ExecFlags {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
  quiet?: boolean;
  podRunningTimeout?: string;
}

/** Checks kubectl makes before anything is sent (pure). */
export function validateExec(target: string | undefined, command: string[], dashSeen: boolean, extraArgs: string[]): void {
  if (!target) throw new CliError('pod, type/name or --filename must be specified');
  if (!dashSeen && extraArgs.length > 0) throw new CliError('exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead');
  if (command.length === 0) throw new CliError('you must specify at least one command for the container');
}

/** The exit code and the stderr line for how a remote command ended, in kubectl's words (pure). */
export function reportExec(r: ExecResult): { code: number; stderr: string } {
  if (r.kind === 'exit') return { code: r.code, stderr: r.code === 0 ? '' : `command terminated with exit code ${r.code}\n` };
  return { code: 1, stderr: `error: ${r.message}\n` };
}

/**
 * `coxctl exec POD|TYPE/NAME [-c C] [-i] [-t] -- CMD...`: the remote command's exit code
 * becomes ours. With -it on a terminal: raw mode, and the terminal size follows SIGWINCH.
 */
export async function runExec(ctx: Ctx, target: string, command: string[], flags: ExecFlags): Promise<number> {
  const timeout = parseDuration(flags.podRunningTimeout ?? '1m');
  let pod: Pod;
  try {
    pod = (await findPod(ctx, target, 'active', timeout)).pod;
  } catch (err) {
    if (err instanceof TargetNotFound) {
      ctx.err(formatApiError(err.apiError) + '\n');
      return 1;
    }
    throw err;
  }
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw new CliError(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  let container = flags.container;
  if (!container) {
    const d = defaultContainer(pod);
    container = d.name;
    if (d.note && !flags.quiet) ctx.err(d.note);
  }
  const stdin = ctx.io.stdin as ReadStream;
  const stdout = ctx.io.stdout as WriteStream;
  let tty = !!flags.tty && !!flags.stdin;
  if (tty && !(stdin.isTTY && typeof stdin.setRawMode === 'function')) {
    tty = false;
    if (!flags.quiet) ctx.err('Unable to use a TTY - input is not a terminal or the right kind of file\n');
  }
  if (tty) stdin.setRawMode(true);
  let result: ExecResult;
  try {
    result = await execInPod(ctx.client, {
      namespace: pod.metadata?.namespace ?? ctx.namespace,
      pod: pod.metadata?.name ?? '',
      container,
      command,
      stdin: flags.stdin ? stdin : undefined,
      stdout,
      stderr: tty ? undefined : ctx.io.stderr,
      tty,
      size: () => (stdout.isTTY && stdout.columns ? { width: stdout.columns, height: stdout.rows } : undefined),
      onResize: (fn) => {
        stdout.on('resize', fn);
        return () => stdout.off('resize', fn);
      },
    });
  } catch (err) {
    if (err instanceof ApiError) {
      ctx.err(formatApiError(err) + '\n');
      return 1;
    }
    throw err;
  } finally {
    if (tty) stdin.setRawMode(false);
  }
  const r = reportExec(result);
  ctx.err(r.stderr);
  return r.code;
}
