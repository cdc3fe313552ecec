/**
 * Commands and processes for the multi-host test bed: run a command and get its output and exit
 * code, and end processes by pid with a grace period. No bed knowledge here.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { waitFor } from './util';

export interface RunResult { stdout: string; stderr: string; code: number }

/**
 * Runs `cmd args` to completion and resolves with its output and exit code (-1 when a signal
 * ended it, e.g. the SIGKILL of the timeout). Never rejects for a non-zero exit; rejects only
 * when the command cannot be started.
 */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? -1 });
    });
  });
}

/** Like run, but rejects when the command fails, with its stderr in the message. */
export async function must(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Whether a process with this pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the command name in parentheses, which may itself contain ") ".
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * Sends SIGTERM to every pid, waits up to `graceMs` for all of them to exit, then SIGKILLs the
 * rest and waits for those too. Resolves when none is left (or throws if SIGKILL did not help).
 */
export async function endProcesses(pids: number[], graceMs = 10_000): Promise<void> {
  const live = pids.filter(alive);
  if (live.length === 0) return;
  for (const pid of live) signal(pid, 'SIGTERM');
  try {
    await waitFor('processes to exit after SIGTERM', () => live.every((p) => !alive(p)), graceMs, 50);
    return;
  } catch {
    for (const pid of live) if (alive(pid)) signal(pid, 'SIGKILL');
  }
  await waitFor(`processes ${live.filter(alive).join(' ')} to exit after SIGKILL`, () => live.every((p) => !alive(p)), 10_000, 50);
}

/** Lazily unmounts every mount point at or under `dir`, deepest first (overlays, shm and netns files a killed dockerd left). */
export async function unmountUnder(dir: string): Promise<void> {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return;
  }
  const points = text.split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((mp): mp is string => !!mp && (mp === dir || mp.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const mp of points) await run('umount', ['-l', mp]);
}

/**
 * Starts `cmd args` inside the network namespace `netns`, detached (so it outlives a CLI that
 * starts it) with its output appended to `logFile`, and polls `ready` every 50 ms until it
 * holds. Throws, with the end of the log, as soon as the process exits or after `timeoutMs`.
 * Returns its pid.
 */
export async function startInNamespace(netns: string, cmd: string, args: string[], o: { what: string; logFile: string; ready: () => Promise<boolean>; timeoutMs?: number }): Promise<number> {
  const log = openSync(o.logFile, 'a');
  const child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', cmd, ...args], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exit: string | undefined;
  child.on('exit', (code, sig) => { exit = `exited (${sig ?? `code ${code}`})`; });
  child.on('error', (err) => { exit = `could not start: ${err.message}`; });
  child.unref();
  const tail = () => readFileSync(o.logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  while (!(await o.ready())) {
    if (exit) throw new Error(`${cmd} in ${netns} ${exit} before ${o.what}; ${o.logFile} ends with:\n${tail()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${o.what}; ${o.logFile} ends with:\n${tail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child.pid as number;
}
