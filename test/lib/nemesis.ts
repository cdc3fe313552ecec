import * as fs from 'node:fs';
import * as path from 'node:path';
import { seededRng } from '../../store/raft/rng';
import { checkRegisterHistory, formatOps, type RegisterCheckReport, type RegisterOp } from '../../store/check/register';
import { NemesisCluster, type Flavor } from './nemesis-cluster';
import { RegisterWorkload, type WriteEvent } from './register-workload';
import { waitFor } from './store-cluster';

/**
 * A Jepsen-style run: start a cluster (one process and one network namespace per replica),
 * run the register workload, and cycle faults through it; then heal, read everything back and
 * check (1) linearizability of the recorded history, (2) that every acknowledged write is in
 * the store's history at the revision it was acknowledged with (no lost writes), that nothing
 * was written that nobody asked for, and that the replicas converge.
 *
 * Faults, one per cycle, in a seeded shuffled rotation: kill -9 and restart (a random replica,
 * the leader, a majority), SIGSTOP/SIGCONT (a random replica, the leader) for longer than the
 * election timeout, and partitions (isolate a random replica or the leader; split into
 * majority | minority). Each fault holds 1.5–3.5 s, then is healed, and the cycle waits for a
 * leader every member agrees on (its "recovery" time) and for the clients to make progress.
 */

export type FaultKind = 'kill' | 'kill-leader' | 'kill-majority' | 'pause' | 'pause-leader' | 'isolate' | 'isolate-leader' | 'split';
const FAULTS: FaultKind[] = ['kill', 'kill-leader', 'pause', 'pause-leader', 'isolate', 'isolate-leader', 'split', 'kill-majority'];

export interface NemesisOptions {
  flavor: Flavor;
  size: number;
  cycles: number;
  seed: number;
  clients?: number;
  /** Milliseconds of quiet (no fault) after each recovery. */
  quietMs?: number;
  log?: (line: string) => void;
  /** Negative control: the clients read member-local state, so the checker must find stale reads. */
  serializableReads?: boolean;
}

export interface CycleRecord {
  cycle: number;
  fault: FaultKind;
  targets: string[];
  holdMs: number;
  recoveryMs: number;
  okOpsDuringCycle: number;
}

export interface NemesisResult {
  flavor: Flavor;
  size: number;
  seed: number;
  cycles: CycleRecord[];
  durationMs: number;
  checkMs: number;
  ops: { total: number; ok: number; indeterminateWrites: number; failedReads: number; keys: number };
  check: RegisterCheckReport;
  lostWrites: RegisterOp[];
  phantomWrites: WriteEvent[];
  otherProblems: string[];
  errors: [string, number][];
  dir: string;
  ok: boolean;
}

export async function runNemesis(o: NemesisOptions): Promise<NemesisResult> {
  const say = o.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const rng = seededRng(o.seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rng() * xs.length)];
  const shuffle = <T>(xs: T[]): T[] => {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  };
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  const started = Date.now();
  const c = await NemesisCluster.start({ flavor: o.flavor, size: o.size });
  say(`nemesis: ${o.flavor} x${o.size} seed=${o.seed} cycles=${o.cycles} dir=${c.dir}`);
  const w = new RegisterWorkload({ endpoints: c.endpoints(), prefix: `/nemesis/${o.seed}`, clients: o.clients ?? 8, rng, serializableReads: o.serializableReads });
  const cycles: CycleRecord[] = [];
  let keep = true;
  try {
    w.start();
    await waitFor('the first completed operations', async () => w.completed() >= 20, 30_000);
    let rotation: FaultKind[] = [];
    for (let cycle = 1; cycle <= o.cycles; cycle++) {
      if (rotation.length === 0) rotation = shuffle(FAULTS);
      const fault = rotation.pop()!;
      const names = c.members.map((m) => m.name);
      const leader = (await Promise.race([c.leader(), sleep(3000).then(() => undefined)])) ?? pick(names);
      const holdMs = Math.round(1500 + rng() * 2000);
      const okBefore = w.completed();
      let targets: string[] = [];
      c.log(`cycle ${cycle}: ${fault} (leader ${leader})`);
      switch (fault) {
        case 'kill':
        case 'kill-leader':
        case 'kill-majority': {
          targets = fault === 'kill' ? [pick(names)] : fault === 'kill-leader' ? [leader] : shuffle(names).slice(0, Math.floor(o.size / 2) + 1);
          for (const t of targets) await c.kill(t);
          await sleep(holdMs);
          for (const t of targets) c.restart(t);
          break;
        }
        case 'pause':
        case 'pause-leader': {
          targets = [fault === 'pause' ? pick(names) : leader];
          c.pause(targets[0]);
          try {
            await sleep(holdMs);
          } finally {
            c.resume(targets[0]);
          }
          break;
        }
        case 'isolate':
        case 'isolate-leader':
        case 'split': {
          const order = shuffle(names.filter((n) => n !== leader));
          // split: a minority of floor((n-1)/2) members, holding the leader half of the time.
          const minority = fault === 'isolate' ? [order[0]] : fault === 'isolate-leader' ? [leader]
            : rng() < 0.5 ? [leader, ...order.slice(0, Math.floor((o.size - 1) / 2) - 1)] : order.slice(0, Math.floor((o.size - 1) / 2));
          targets = minority;
          c.partition([minority, names.filter((n) => !minority.includes(n))]);
          try {
            await sleep(holdMs);
          } finally {
            c.heal();
          }
          break;
        }
      }
      const healedAt = Date.now();
      await c.waitForLeader(60_000);
      const recoveryMs = Date.now() - healedAt;
      await waitFor('clients to make progress after the heal', async () => w.completed() >= okBefore + 10, 60_000, 50);
      await sleep(o.quietMs ?? 1000);
      const rec: CycleRecord = { cycle, fault, targets, holdMs, recoveryMs, okOpsDuringCycle: w.completed() - okBefore };
      cycles.push(rec);
      say(`nemesis: cycle ${cycle}/${o.cycles} ${fault} [${targets.join(',')}] hold=${holdMs}ms recovery=${recoveryMs}ms ok-ops=${rec.okOpsDuringCycle}`);
    }
    await w.stop();

    // Read back.
    await c.waitForLeader(60_000);
    await w.finalReads();
    const leaderNow = await c.waitForLeader(60_000);
    const events = await w.allWrites(c.members.findIndex((m) => m.name === leaderNow));
    const otherProblems: string[] = [];
    // Replicas converge to the same state.
    try {
      await waitFor('every replica to hold the same keys and values', async () => {
        const views = await Promise.all(c.members.map((_, i) => w.localView(i)));
        const sig = views.map((v) => JSON.stringify([...v.kvs].sort()));
        return sig.every((s) => s === sig[0]) && views.every((v) => v.rev === views[0].rev);
      }, 30_000, 250);
    } catch (e) {
      otherProblems.push(`replicas did not converge: ${(e as Error).message}`);
    }

    // Linearizability.
    const t0 = Date.now();
    const check = checkRegisterHistory(w.history, { timeLimitMs: 120_000 });
    const checkMs = Date.now() - t0;

    // Lost and phantom writes, from the store's own history (a watch from revision 1).
    const written = new Map<string, string>();
    let lastRev = 0;
    for (const e of events) {
      if (e.modRev <= lastRev) otherProblems.push(`watch went back in revision: ${e.key}@${e.modRev} after ${lastRev}`);
      lastRev = e.modRev;
      if (e.type === 'DELETE') otherProblems.push(`unexpected DELETE of ${e.key}@${e.modRev}`);
      written.set(`${e.key}@${e.modRev}`, e.value);
    }
    const lostWrites = w.history.filter((op) => {
      const out = op.output;
      if (!out || op.input.f === 'get' || (op.input.f === 'cas' && !out.ok)) return false;
      return written.get(`${op.input.key}@${out.rev}`) !== op.input.value;
    });
    const phantomWrites = events.filter((e) => !w.attempted.get(e.key)?.has(e.value));
    const finalByKey = new Map<string, string>();
    for (const e of events) finalByKey.set(e.key, e.value);
    for (const op of w.history.filter((x) => x.client === -1)) {
      const want = finalByKey.get(op.input.key) ?? null;
      if (op.output?.value !== want) otherProblems.push(`final read of ${op.input.key} = ${op.output?.value} but its last write event is ${want}`);
    }

    const total = w.history.length;
    const ok = w.history.filter((x) => x.output).length;
    const indeterminateWrites = w.history.filter((x) => !x.output && x.input.f !== 'get').length;
    const result: NemesisResult = {
      flavor: o.flavor,
      size: o.size,
      seed: o.seed,
      cycles,
      durationMs: Date.now() - started,
      checkMs,
      ops: { total, ok, indeterminateWrites, failedReads: total - ok - indeterminateWrites, keys: w.keysUsed.length },
      check,
      lostWrites,
      phantomWrites,
      otherProblems,
      errors: [...w.errors].sort((a, b) => b[1] - a[1]),
      dir: c.dir,
      ok: check.ok && lostWrites.length === 0 && phantomWrites.length === 0 && otherProblems.length === 0,
    };
    fs.writeFileSync(path.join(c.dir, 'history.json'), JSON.stringify({ seed: o.seed, history: w.history }, null, 0));
    fs.writeFileSync(path.join(c.dir, 'result.json'), JSON.stringify({ ...result, check: { ...result.check, perKey: undefined } }, null, 2));
    if (!result.ok) {
      for (const v of check.violations) say(`VIOLATION (${v.kind}) on ${v.key}: ${v.message}\n${formatOps(v.ops)}`);
      for (const k of check.unknown) say(`UNKNOWN: the search for ${k} ran out of time`);
      if (lostWrites.length) say(`LOST ${lostWrites.length} acknowledged writes:\n${formatOps(lostWrites.slice(0, 20))}`);
      if (phantomWrites.length) say(`PHANTOM writes: ${JSON.stringify(phantomWrites.slice(0, 20))}`);
      for (const p of otherProblems.slice(0, 20)) say(`PROBLEM: ${p}`);
      say(`nemesis: history, logs and result kept in ${c.dir}`);
    } else {
      keep = false;
    }
    return result;
  } finally {
    await w.stop().catch(() => undefined);
    w.close();
    await c.stop(keep);
  }
}
