import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1';
import { Command } from 'commander';
import { ApiError } from './client';
import { FakeClock } from './fake-clock';
import { LeaseElector, type LeaseClient } from './leader-election';
import { addLeaderElectionFlags, parseLeaderElectionFlags } from './leader-election-flags';

/** An in-memory Lease store with resourceVersion conflicts, which can be made to fail. */
class FakeLeases implements LeaseClient {
  lease?: Lease;
  failing = false;
  /** Requests never answer (a partitioned apiserver). */
  hanging = false;
  private rv = 0;

  async get(): Promise<Lease | undefined> {
    if (this.hanging) await new Promise(() => undefined);
    if (this.failing) throw new Error('connection refused');
    return this.lease && structuredClone(this.lease);
  }

  async create(lease: Lease): Promise<Lease> {
    if (this.failing) throw new Error('connection refused');
    if (this.lease) throw new ApiError(409, 'AlreadyExists', 'exists');
    this.lease = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }

  async update(lease: Lease): Promise<Lease> {
    if (this.failing) throw new Error('connection refused');
    if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw new ApiError(409, 'Conflict', 'stale');
    this.lease = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
}

const settle = () => new Promise<void>((r) => setImmediate(r));

/** Advances the clock in small steps, letting the electors' promises run between them. */
async function pass(clock: FakeClock, ms: number, step = 250): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle();
  }
}

function candidate(leases: LeaseClient, clock: FakeClock, identity: string) {
  const state = { leading: false, lost: false };
  const elector = new LeaseElector({ client: leases, namespace: 'kube-system', name: 'kube-scheduler', identity, clock, rand: () => 0 });
  const stopper = new AbortController();
  const done = elector.run(
    () => (state.leading = true),
    () => ((state.leading = false), (state.lost = true)),
    stopper.signal,
  );
  return { state, elector, stop: () => (stopper.abort(), done), done };
}

test('a candidate creates a missing Lease and leads; the record is client-go shaped', async () => {
  const clock = new FakeClock(Date.parse('2026-12-06T21:00:00Z'));
  const leases = new FakeLeases();
  const a = candidate(leases, clock, 'a');
  await settle();
  assert.equal(a.state.leading, true);
  assert.deepEqual(leases.lease?.spec, {
    holderIdentity: 'a',
    leaseDurationSeconds: 15,
    acquireTime: '2026-12-06T21:00:00.000000Z',
    renewTime: '2026-12-06T21:00:00.000000Z',
    leaseTransitions: 0,
  });
  await pass(clock, 2_000);
  assert.equal(leases.lease?.spec?.renewTime, '2026-12-06T21:00:02.000000Z', 'renewed every retry period');
  assert.equal(leases.lease?.spec?.acquireTime, '2026-12-06T21:00:00.000000Z', 'acquireTime kept on renewal');
  await a.stop();
});

test('exactly one of two candidates leads; the other takes over only after the lease duration without renewals', async () => {
  const clock = new FakeClock();
  const leases = new FakeLeases();
  const a = candidate(leases, clock, 'a');
  await settle();
  const b = candidate(leases, clock, 'b');
  await pass(clock, 30_000);
  assert.deepEqual([a.state.leading, b.state.leading], [true, false], 'b waits while a renews');

  // a dies without releasing (SIGKILL): its renewals stop; model that by holding a's record still.
  const frozen = structuredClone(leases.lease);
  leases.failing = true; // a's renewals fail too, so it gives up after its renew deadline ...
  await pass(clock, 10_000);
  assert.equal(a.state.lost, true, 'a stops leading after renewDeadline without a renewal');
  leases.failing = false;
  leases.lease = frozen;
  await pass(clock, 14_000);
  assert.equal(b.state.leading, false, 'not before leaseDuration since b last saw the record change');
  await pass(clock, 4_000);
  assert.equal(b.state.leading, true);
  assert.equal(leases.lease?.spec?.holderIdentity, 'b');
  assert.equal(leases.lease?.spec?.leaseTransitions, 1);
  await b.stop();
});

test('a graceful stop releases the Lease, and the next candidate takes it at its next attempt', async () => {
  const clock = new FakeClock();
  const leases = new FakeLeases();
  const a = candidate(leases, clock, 'a');
  await settle();
  const b = candidate(leases, clock, 'b');
  await pass(clock, 1_000);
  await a.stop();
  assert.equal(leases.lease?.spec?.holderIdentity, '');
  assert.equal(leases.lease?.spec?.leaseDurationSeconds, 1);
  assert.equal(a.state.lost, false, 'a graceful stop is not a lost leadership');
  await pass(clock, 2_000);
  assert.equal(b.state.leading, true, 'b took over within one retry period');
  assert.equal(leases.lease?.spec?.leaseTransitions, 1);
  await b.stop();
});

test('a renewal that keeps failing ends leadership after renewDeadline, not before', async () => {
  const clock = new FakeClock();
  const leases = new FakeLeases();
  const a = candidate(leases, clock, 'a');
  await settle();
  leases.failing = true;
  await pass(clock, 7_000);
  assert.equal(a.state.lost, false);
  leases.failing = false;
  await pass(clock, 2_000);
  assert.equal(a.state.lost, false, 'a renewal within the deadline keeps leadership');
  leases.failing = true;
  await pass(clock, 12_000);
  assert.equal(a.state.lost, true);
  await a.done;
});

test('a renewal request that never answers ends leadership at the renew deadline', async () => {
  const clock = new FakeClock();
  const leases = new FakeLeases();
  const a = candidate(leases, clock, 'a');
  await settle();
  leases.hanging = true;
  await pass(clock, 9_500);
  assert.equal(a.state.lost, false);
  await pass(clock, 1_000);
  assert.equal(a.state.lost, true);
  await a.done;
});

/** A candidate's view of the Lease store whose update answers can be held back (the write lands; the answer waits). */
class HeldAnswers implements LeaseClient {
  hold = false;
  private readonly held: (() => void)[] = [];
  constructor(private readonly inner: LeaseClient) {}
  get = (ns: string, name: string) => this.inner.get(ns, name);
  create = (l: Lease) => this.inner.create(l);
  update(l: Lease): Promise<Lease> {
    const r = this.inner.update(l);
    if (!this.hold) return r;
    return new Promise((resolve, reject) => this.held.push(() => void r.then(resolve, reject)));
  }
  release(): void {
    this.hold = false;
    for (const f of this.held.splice(0)) f();
  }
}

/** Runs `pass`, asserting after every step that at most one elector may act. */
async function passOneLeader(clock: FakeClock, ms: number, electors: LeaseElector[]): Promise<void> {
  for (let t = 0; t < ms; t += 250) {
    clock.advance(Math.min(250, ms - t));
    await settle();
    assert.ok(electors.filter((e) => e.leading()).length <= 1, `two electors may act at ${clock.now()}`);
  }
}

test('a renewal whose answer arrives after a takeover does not let the old leader act again', async () => {
  const clock = new FakeClock();
  const leases = new FakeLeases();
  const aView = new HeldAnswers(leases);
  const a = candidate(aView, clock, 'a');
  await settle();
  const b = candidate(leases, clock, 'b');
  await passOneLeader(clock, 3_000, [a.elector, b.elector]);
  assert.equal(a.elector.leading(), true);
  // a is frozen just after sending a renewal: the Lease is renewed, a learns it only much later
  aView.hold = true;
  await passOneLeader(clock, 20_000, [a.elector, b.elector]);
  assert.equal(a.state.lost, true, 'a gave up at its renew deadline');
  assert.equal(b.state.leading, true, 'b took over after the lease duration');
  aView.release();
  await settle();
  assert.equal(a.elector.leading(), false, 'the late answer of a renewal older than the renew deadline grants nothing');
  assert.equal(b.elector.leading(), true);
  await b.stop();
});

test('a leader frozen past its lease may not act on waking, before its loop ran, and writes nothing after the takeover', async () => {
  const start = 1_700_000_000_000;
  const aClock = new FakeClock(start);
  const bClock = new FakeClock(start);
  const leases = new FakeLeases();
  const writers: string[] = [];
  const track: LeaseClient = {
    get: () => leases.get(),
    create: (l) => leases.create(l),
    update: async (l) => {
      const r = await leases.update(l);
      writers.push(r.spec?.holderIdentity ?? '');
      return r;
    },
  };
  const a = candidate(track, aClock, 'a');
  await settle();
  const b = candidate(track, bClock, 'b');
  for (let t = 0; t < 3_000; t += 250) {
    aClock.advance(250);
    bClock.advance(250);
    await settle();
  }
  assert.equal(a.elector.leading(), true);
  // SIGSTOP a: its clock runs on but none of its timers or callbacks do
  await pass(bClock, 20_000);
  assert.equal(b.state.leading, true, 'b took over while a was frozen');
  const takeover = writers.lastIndexOf('b');
  // SIGCONT a: the first thing anything in a can ask is whether it may act
  aClock.skip(20_000);
  assert.equal(a.elector.leading(), false, 'fenced the moment a wakes');
  await settle();
  assert.equal(a.state.lost, true, 'a stops at once on waking');
  await pass(bClock, 5_000);
  assert.deepEqual(writers.slice(takeover).filter((w) => w !== 'b'), [], 'no Lease write by a after the takeover');
  assert.equal(leases.lease?.spec?.holderIdentity, 'b');
  await b.stop();
});

test('--leader-elect flags: defaults, and inconsistent durations are refused', () => {
  const parse = (args: string[]) => {
    const cmd = addLeaderElectionFlags(new Command('x')).exitOverride();
    cmd.parse(args, { from: 'user' });
    return parseLeaderElectionFlags(cmd.opts<Record<string, string>>());
  };
  assert.deepEqual(parse([]), { leaderElect: false, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
  assert.equal(parse(['--leader-elect']).leaderElect, true);
  assert.equal(parse(['--leader-elect=false']).leaderElect, false);
  assert.equal(parse(['--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '1s']).leaseDurationMs, 4_000);
  assert.throws(() => parse(['--leader-elect-lease-duration', '10s']), /greater than --leader-elect-renew-deadline/);
  assert.throws(() => parse(['--leader-elect-retry-period', '9s']), /renew-deadline must be greater/);
});
