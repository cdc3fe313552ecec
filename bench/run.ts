/**
 * Runs every benchmark in sequence, each in its own process (so one failing
 * bench does not stop the next, and no state leaks between them). Output is the
 * benches' own: JSON lines on stdout, tables and progress on stderr.
 *
 *   npm run bench                      # build, then all benches
 *   node dist/bench/run.js store pods  # a subset, in this order
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { emit, machineLoad, note } from './lib/report';

export const BENCHES = ['store', 'pods', 'api', 'failover', 'jobs', 'ingress', 'dns', 'proxy', 'scheduler', 'scheduler-plugins', 'metrics', 'portforward', 'dashboard'] as const;

function runOne(name: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, `${name}.js`)], { stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.removeListener('SIGINT', forward);
      process.removeListener('SIGTERM', forward);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(BENCHES as readonly string[]).includes(w));
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')}; known: ${BENCHES.join(', ')}`);
  const list = wanted.length ? wanted : [...BENCHES];
  const results: { bench: string; exitCode: number; seconds: number }[] = [];
  for (const b of list) {
    note(`=== bench:${b} (load ${machineLoad().loadavg.join(' ')}) ===`);
    const t0 = Date.now();
    const exitCode = await runOne(b);
    results.push({ bench: b, exitCode, seconds: Math.round((Date.now() - t0) / 1000) });
  }
  emit({ bench: 'run', kind: 'summary', results });
  for (const r of results) note(`bench:${r.bench}: ${r.exitCode === 0 ? 'ok' : `FAILED (exit ${r.exitCode})`} in ${r.seconds} s`);
  process.exitCode = results.every((r) => r.exitCode === 0) ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
