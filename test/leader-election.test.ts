/**
 * Lease-based leader election end to end: controller-manager processes with
 * --leader-elect against one apiserver. Exactly one leads (its /readyz is 200,
 * the others' 503, and the kube-system/kube-controller-manager Lease names
 * it); a SIGKILLed leader is replaced once its lease expired; a SIGTERMed
 * leader releases the lease and is replaced at once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Lease } from 'kubernetes-types/coordination/v1';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import { DEPLOYMENTS, LEASES, REPLICASETS } from '../lib/resources';
import { freePort, startControlPlane, stopProcess, waitFor, type ControlPlane, type Proc } from './lib/cluster';

const LEASE_MS = 10_000;
const FLAGS = ['--leader-elect', '--leader-elect-lease-duration', '10s', '--leader-elect-renew-deadline', '6s', '--leader-elect-retry-period', '1s', '--cluster-cidr', '10.244.0.0/16'];

interface Candidate {
  proc: Proc;
  port: number;
}

/** The HTTP status of a candidate's /readyz (200 only while it leads), or 0 when it does not answer. */
function readyzStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    http
      .get(`http://127.0.0.1:${port}/readyz`, { agent: false, timeout: 2_000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', () => resolve(0));
  });
}
const readyz = async (port: number) => (await readyzStatus(port)) === 200;

describe('leader election between controller managers', { timeout: 5 * 60_000 }, () => {
  let cp: ControlPlane;
  const candidates: Candidate[] = [];

  async function startCandidate(name: string): Promise<Candidate> {
    const port = await freePort();
    const c = { proc: cp.startComponent('controllers', ['--port', String(port), ...FLAGS], name), port };
    candidates.push(c);
    return c;
  }

  const alive = () => candidates.filter((c) => c.proc.child.exitCode === null && c.proc.child.signalCode === null);
  const lease = () => cp.client.tryGet<Lease>(LEASES, 'kube-controller-manager', 'kube-system');

  /** The one leading candidate; fails if two are ready at once. */
  async function leader(): Promise<Candidate | undefined> {
    const ready = [];
    for (const c of alive()) if (await readyz(c.port)) ready.push(c);
    assert.ok(ready.length <= 1, `${ready.length} controller managers lead at once`);
    return ready[0];
  }

  before(async () => {
    cp = await startControlPlane({ store: 'etcd' });
    await startCandidate('controllers-1');
    await startCandidate('controllers-2');
  });

  after(async () => {
    await cp?.stop();
  });

  it('exactly one leads, holds the Lease, and runs the controllers', async () => {
    const first = await waitFor('a leader', leader, 60_000);
    for (let i = 0; i < 10; i++) {
      assert.equal(await leader(), first, 'leadership is stable while the leader renews');
      await new Promise((r) => setTimeout(r, 300));
    }
    const l = await lease();
    assert.ok(l?.spec?.holderIdentity, 'the Lease names a holder');
    assert.equal(l.spec.leaseDurationSeconds, LEASE_MS / 1000);
    assert.match(l.spec.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'renewTime is a MicroTime');
    await cp.client.create<Deployment>(DEPLOYMENTS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'le-web', namespace: 'default' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'le-web' } }, template: { metadata: { labels: { app: 'le-web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    await waitFor('the leader to create a ReplicaSet', async () => (await cp.client.list<ReplicaSet>(REPLICASETS, { namespace: 'default' })).items.length > 0, 30_000);
  });

  it('a SIGKILLed leader is replaced after its lease expired', async () => {
    const old = await waitFor('a leader', leader, 30_000);
    const before = await lease();
    old.proc.child.kill('SIGKILL');
    await old.proc.exited;
    const killedAt = Date.now();
    const next = await waitFor('another leader', leader, 60_000, 200);
    const took = Date.now() - killedAt;
    assert.notEqual(next, old);
    // The survivor waits a lease duration from the last renewal it saw (at most ~2.2 retry periods before the kill).
    assert.ok(took >= LEASE_MS - 3_000, `took over after ${took} ms, before the lease expired`);
    const after = await lease();
    assert.notEqual(after?.spec?.holderIdentity, before?.spec?.holderIdentity);
    assert.equal(after?.spec?.leaseTransitions, (before?.spec?.leaseTransitions ?? 0) + 1);
  });

  it('a SIGTERMed leader releases the Lease and a standby takes over at once', async () => {
    const standby = await startCandidate('controllers-3');
    const old = await waitFor('a leader', leader, 30_000);
    assert.notEqual(old, standby);
    await waitFor('the standby to answer as a non-leader', async () => (await readyzStatus(standby.port)) === 503, 30_000);
    const stoppedAt = Date.now();
    await stopProcess(old.proc);
    const next = await waitFor('the standby to lead', leader, 60_000, 200);
    const took = Date.now() - stoppedAt;
    assert.equal(next, standby);
    assert.ok(took < LEASE_MS - 3_000, `took ${took} ms: the lease was not released`);
    const { code } = await old.proc.exited;
    assert.equal(code, 0, 'a graceful stop exits 0');
  });
});
