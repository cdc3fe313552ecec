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

function candidate(leases: FakeLeases, clock: FakeClock, identity: string) {
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
