/**
 * Benchmark output: one JSON object per line on stdout (machine-readable), and
 * a short human table plus progress lines on stderr. Every result line carries
 * `bench`, `scenario` and `system`; every comparison line has `kind: "ratio"`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

export interface Summary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** Nearest-rank percentile of an ascending-sorted array (q in 0..1). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

export function summarize(samplesMs: number[]): Summary {
  const s = Float64Array.from(samplesMs).sort();
  const arr = Array.from(s);
  const mean = arr.length ? arr.reduce((a, b) => a + b, 0) / arr.length : NaN;
  return {
    count: arr.length,
    p50Ms: round(percentile(arr, 0.5)),
    p90Ms: round(percentile(arr, 0.9)),
    p99Ms: round(percentile(arr, 0.99)),
    maxMs: round(arr.length ? arr[arr.length - 1] : NaN),
    meanMs: round(mean),
  };
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Writes one JSON result line to stdout. */
export function emit(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), ...obj }) + '\n');
}

/** A progress/diagnostic line for humans (stderr, so stdout stays JSON). */
export function note(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** Renders rows as an aligned text table (first row = header) to stderr. */
export function table(title: string, rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const out = [`\n${title}`, line(cells[0]), '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|', ...cells.slice(1).map(line)];
  process.stderr.write(out.join('\n') + '\n');
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (Number.isInteger(x) || Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** Resident set size of a process in KiB (VmRSS from /proc/<pid>/status), or undefined if gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in ms (/proc/<pid>/stat), or undefined if gone. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd on (the command may hold spaces)
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** USER_HZ: Linux reports /proc CPU times in 1/100 s on every common platform. */
const CLOCK_TICKS = 100;

/** The 1/5/15-minute load averages and the CPU count, recorded next to every run. */
export function machineLoad(): { loadavg: number[]; nproc: number } {
  return { loadavg: os.loadavg().map((x) => round(x)), nproc: os.cpus().length };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Integer from an environment variable, with a default and a floor of 1. */
export function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Command lines of `node --test` runs in progress (other people's test suites on this machine). */
export function testRunsInProgress(): string[] {
  const out: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (/(^|\/)node$/.test(argv[0]) && argv.includes('--test')) out.push(`${d} ${argv.join(' ').slice(0, 120)}`);
    } catch {
      // ended while we looked
    }
  }
  return out;
}

/**
 * Waits (bounded: COXSWAIN_BENCH_QUIET_WAIT seconds, default 180; 0 skips) until
 * the 1-minute load average is below COXSWAIN_BENCH_QUIET_LOAD (default 1.0) and
 * no `node --test` run is in progress. Never fails: it returns what it saw, and
 * the caller records the load next to the numbers.
 */
export async function waitQuiet(): Promise<{ quiet: boolean; waitedS: number; loadavg: number[]; testRuns: number }> {
  const maxS = Number(process.env.COXSWAIN_BENCH_QUIET_WAIT ?? 180);
  const maxLoad = Number(process.env.COXSWAIN_BENCH_QUIET_LOAD ?? 1.0);
  const t0 = Date.now();
  let announced = false;
  for (;;) {
    const tests = testRunsInProgress();
    const load = os.loadavg();
    const quiet = load[0] < maxLoad && tests.length === 0;
    const waitedS = Math.round((Date.now() - t0) / 1000);
    if (quiet || waitedS >= maxS) {
      if (!quiet) note(`machine still busy after ${waitedS} s (load ${load.map((x) => x.toFixed(2)).join(' ')}, ${tests.length} node --test runs); going ahead and recording the load`);
      return { quiet, waitedS, loadavg: load.map((x) => round(x)), testRuns: tests.length };
    }
    if (!announced) {
      note(`waiting up to ${maxS} s for a quiet machine (load ${load.map((x) => x.toFixed(2)).join(' ')}, node --test runs: ${tests.length}${tests.length ? `: ${tests[0]}` : ''})`);
      announced = true;
    }
    await sleep(5_000);
  }
}

/** The commit the working tree is based on (read-only `git rev-parse`); others may have uncommitted edits on top. */
export function sourceRevision(): string {
  try {
    return execFileSync('git', ['-C', path.resolve(__dirname, '../../..'), 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', timeout: 5_000 }).trim();
  } catch {
    return 'unknown';
  }
}
