import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { formatOps } from '../store/check/register';
import { runNemesis, type NemesisResult } from './lib/nemesis';
import type { Flavor } from './lib/nemesis-cluster';

// Issue 3, acceptance 2: a process-level fault test. 3- and 5-replica clusters (one process and
// one network namespace per replica), concurrent clients doing get/put/cas on a few keys, while
// a nemesis kills -9, pauses, partitions and restarts replicas (the leader too) in cycles. The
// history is checked for linearizability (store/check) and for lost acknowledged writes.
//
//   COXSWAIN_NEMESIS_CYCLES=50   cycles per cluster size (default 10 for 3 replicas, 6 for 5)
//   COXSWAIN_NEMESIS_SIZES=3,5   which cluster sizes to run
//   COXSWAIN_NEMESIS_SEED=1234   replay a seed (default: random, printed)
//   COXSWAIN_NEMESIS_STORE=etcd  run the same harness against /usr/bin/etcd (positive control)
//   COXSWAIN_NEMESIS_STALE_READS=1  negative control: clients read with serializable=true (member-local,
//                                not linearizable); the test is then EXPECTED TO FAIL with stale reads

const flavor: Flavor = process.env.COXSWAIN_NEMESIS_STORE === 'etcd' ? 'etcd' : 'coxswain';
const sizes = (process.env.COXSWAIN_NEMESIS_SIZES ?? '3,5').split(',').map(Number).filter((n) => n > 0);
const cyclesFor = (size: number): number => Number(process.env.COXSWAIN_NEMESIS_CYCLES ?? (size >= 5 ? 6 : 10));

function canRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, iptables)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    execFileSync('iptables', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'needs ip (iproute2) and iptables';
  }
  return undefined;
}
const skip = canRun();

function summary(r: NemesisResult): string {
  const faults = new Map<string, number>();
  for (const c of r.cycles) faults.set(c.fault, (faults.get(c.fault) ?? 0) + 1);
  const rec = r.cycles.map((c) => c.recoveryMs).sort((a, b) => a - b);
  return JSON.stringify({
    store: r.flavor, replicas: r.size, seed: r.seed, cycles: r.cycles.length, faults: Object.fromEntries(faults),
    ops: r.ops, durationS: Math.round(r.durationMs / 100) / 10, checkMs: r.checkMs,
    recoveryMs: { median: rec[Math.floor(rec.length / 2)], max: rec.at(-1) },
    violations: r.check.violations.length, unknown: r.check.unknown.length, lostWrites: r.lostWrites.length,
    phantomWrites: r.phantomWrites.length, otherProblems: r.otherProblems.length,
    maxOpsPerKey: Math.max(...r.check.perKey.map((k) => k.searched)), topErrors: r.errors.slice(0, 4),
  });
}

for (const size of sizes) {
  const cycles = cyclesFor(size);
  test(`${flavor} x${size}: ${cycles} fault cycles (kill -9, SIGSTOP, partitions, leader too) — linearizable, no lost acknowledged writes`,
    { skip, timeout: 120_000 + cycles * 30_000 }, async () => {
      const seed = Number(process.env.COXSWAIN_NEMESIS_SEED ?? Math.floor(Math.random() * 2 ** 31));
      const r = await runNemesis({ flavor, size, cycles, seed, serializableReads: process.env.COXSWAIN_NEMESIS_STALE_READS === '1' });
      process.stdout.write(`nemesis result: ${summary(r)}\n`);
      assert.equal(r.cycles.length, cycles);
      assert.deepEqual(r.check.violations.map((v) => `${v.kind} ${v.key}: ${v.message}\n${formatOps(v.ops)}`), [], `seed ${seed}; see ${r.dir}`);
      assert.deepEqual(r.check.unknown, [], `seed ${seed}: checker ran out of time`);
      assert.deepEqual(r.lostWrites.map((op) => formatOps([op])), [], `seed ${seed}: lost acknowledged writes; see ${r.dir}`);
      assert.deepEqual(r.phantomWrites, [], `seed ${seed}`);
      assert.deepEqual(r.otherProblems, [], `seed ${seed}`);
      assert.ok(r.ops.ok > cycles * 10, `too few completed operations: ${JSON.stringify(r.ops)}`);
    });
}
