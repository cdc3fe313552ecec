/**
 * Leader election keeps writes single-handed (issue 11, acceptance 4), shown
 * from the apiserver's audit log, where every component's User-Agent names its
 * pid. Three `coxswain scheduler --leader-elect` processes (lease 6 s, renew
 * deadline 4 s, retry 1 s) share hollow Ready nodes while pods arrive at 5/s:
 *   - the leader is SIGKILLed: another takes over; every pod is bound exactly
 *     once (one 201 `create pods/binding` each) and no process writes
 *     anything outside its own term as Lease holder;
 *   - the leader is SIGSTOPped until another took over, then SIGCONTed with
 *     pods still arriving: it writes nothing after the takeover and exits 1;
 *   - two controller managers: the leader is SIGKILLed while a Deployment is
 *     scaled: one ReplicaSet, exactly the right pods, each created once, and
 *     no write outside a term.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { ApiClient, KubeObject } from '../lib/client';
import { DEPLOYMENTS, PODS, REPLICASETS } from '../lib/resources';
import { freePort, startControlPlane, waitFor, type ControlPlane, type Proc } from './lib/cluster';
import { HollowNodes } from './lib/hollow-nodes';
import { isWrite, ok, pidOf, readAudit, terms, writesOutsideTerm, type AuditEvent } from './lib/audit';

const LEASE_MS = 6_000;
const ELECT = ['--leader-elect', '--leader-elect-lease-duration', '6s', '--leader-elect-renew-deadline', '4s', '--leader-elect-retry-period', '1s'];
const LABEL = 'coxswain.test/stream';

interface Candidate {
  proc: Proc;
  port: number;
  pid: number;
}

/** The HTTP status of /readyz (200 only while leading), or 0 when nothing answers (dead or frozen). */
function readyzStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(`http://127.0.0.1:${port}/readyz`, { agent: false, timeout: 1_500 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Creates pods at a steady rate until stopped (load, not a race: the test waits on conditions). */
class PodStream {
  private n = 0;
  private timer?: NodeJS.Timeout;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly client: ApiClient, private readonly prefix: string, private readonly perSecond = 5) {}

  start(): void {
    this.timer = setInterval(() => {
      const name = `${this.prefix}-${++this.n}`;
      const p = this.client
        .create<Pod & KubeObject>(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { [LABEL]: this.prefix } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } })
        .catch(() => undefined); // a create that failed is simply absent from the listing
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    }, 1_000 / this.perSecond);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.inflight]);
  }
}

const podsOf = async (client: ApiClient, prefix: string) => (await client.list<Pod>(PODS, { namespace: 'default', labelSelector: `${LABEL}=${prefix}` })).items;
const bindings = (events: AuditEvent[]) => events.filter((e) => e.objectRef?.resource === 'pods' && e.objectRef.subresource === 'binding' && e.verb === 'create');

describe('leader election: no pod bound twice, no object written by two leaders', { timeout: 10 * 60_000 }, () => {
  let cp: ControlPlane;
  let hollow: HollowNodes;
  const schedulers: Candidate[] = [];
  const alive = (cs: Candidate[]) => cs.filter((c) => c.proc.child.exitCode === null && c.proc.child.signalCode === null);
  const name = (cs: Candidate[], pid: number | undefined) => cs.find((c) => c.pid === pid)?.proc.name ?? `pid ${pid}`;

  async function start(component: 'scheduler' | 'controllers', label: string, extra: string[] = []): Promise<Candidate> {
    const port = await freePort();
    const proc = cp.startComponent(component, ['--port', String(port), ...ELECT, ...extra], label);
    return { proc, port, pid: proc.child.pid! };
  }

  /** The one candidate whose /readyz is 200; fails if two are. */
  async function leader(cs: Candidate[]): Promise<Candidate | undefined> {
    const ready = [];
    for (const c of alive(cs)) if ((await readyzStatus(c.port)) === 200) ready.push(c);
    assert.ok(ready.length <= 1, `${ready.map((c) => c.proc.name).join(' and ')} lead at once`);
    return ready[0];
  }

  /** Waits until every streamed pod is bound and the audit log shows its binding. */
  async function allBound(prefix: string): Promise<{ pods: Pod[]; events: AuditEvent[] }> {
    return waitFor(`every ${prefix} pod bound and audited`, async () => {
      const pods = await podsOf(cp.client, prefix);
      if (pods.some((p) => !p.spec?.nodeName)) return false;
      const events = await readAudit(cp.auditLog);
      const bound = new Set(bindings(events).filter(ok).map((e) => e.objectRef?.name));
      return pods.every((p) => bound.has(p.metadata?.name)) && { pods, events };
    }, 90_000, 500);
  }

  /** Exactly one successful binding per pod, and no scheduler wrote outside its term. */
  function assertSingleHanded(pods: Pod[], events: AuditEvent[]): void {
    const names = new Set(pods.map((p) => p.metadata?.name));
    const mine = bindings(events).filter((e) => names.has(e.objectRef?.name));
    const count = new Map<string, number>();
    for (const e of mine.filter(ok)) count.set(e.objectRef!.name!, (count.get(e.objectRef!.name!) ?? 0) + 1);
    const twice = [...count].filter(([, n]) => n !== 1);
    assert.deepEqual(twice, [], 'each pod has exactly one successful binding');
    assert.equal(count.size, names.size, 'every pod has a successful binding');
    for (const p of pods) {
      const by = mine.find((e) => ok(e) && e.objectRef?.name === p.metadata?.name);
      assert.ok(schedulers.some((c) => c.pid === pidOf(by!)), `${p.metadata?.name} bound by one of our schedulers (${by?.userAgent})`);
    }
    const outside = writesOutsideTerm(events, 'kube-scheduler', schedulers.map((c) => c.pid));
    assert.deepEqual(outside.map((e) => `${name(schedulers, pidOf(e))} ${e.verb} ${e.requestURI} ${e.responseStatus.code} at ${e.requestReceivedTimestamp}`), [], 'no scheduler writes outside its term as leader');
  }

  before(async () => {
    cp = await startControlPlane({ store: 'etcd' });
    hollow = new HollowNodes(cp.client, ['le-a', 'le-b', 'le-c', 'le-d']);
    await hollow.start();
    for (let i = 1; i <= 3; i++) schedulers.push(await start('scheduler', `scheduler-${i}`));
  });

  after(async () => {
    for (const c of schedulers) if (c.proc.child.signalCode === 'SIGSTOP') c.proc.child.kill('SIGCONT');
    await hollow?.stop();
    await cp?.stop();
  });

  it('a SIGKILLed scheduler is replaced; every pod is bound exactly once', async (t) => {
    const old = await waitFor('a leading scheduler', () => leader(schedulers), 60_000);
    const stream = new PodStream(cp.client, 'kill');
    stream.start();
    try {
      await waitFor('the leader to bind pods', async () => (await podsOf(cp.client, 'kill')).filter((p) => p.spec?.nodeName).length >= 10, 60_000, 200);
      old.proc.child.kill('SIGKILL');
      await old.proc.exited;
      const killedAt = Date.now();
      const next = await waitFor('another scheduler to lead', () => leader(schedulers), 60_000, 100);
      const took = Date.now() - killedAt;
      assert.notEqual(next, old);
      t.diagnostic(`SIGKILL → ${next.proc.name} ready as leader in ${took} ms (lease ${LEASE_MS} ms)`);
      const boundBefore = (await podsOf(cp.client, 'kill')).filter((p) => p.spec?.nodeName).length;
      await waitFor('the new leader to bind new pods', async () => (await podsOf(cp.client, 'kill')).filter((p) => p.spec?.nodeName).length >= boundBefore + 10, 60_000, 200);
    } finally {
      await stream.stop();
    }
    const { pods, events } = await allBound('kill');
    assertSingleHanded(pods, events);
    const ts = terms(events, 'kube-scheduler', schedulers.map((c) => c.pid));
    assert.ok(ts.length >= 2, 'the Lease changed hands');
    assert.ok(bindings(events).some((e) => ok(e) && pidOf(e) === old.pid), 'the killed leader bound some pods');
    t.diagnostic(`${pods.length} pods, each bound once; terms: ${ts.map((x) => name(schedulers, x.pid)).join(' → ')}`);
  });

  it('a SIGSTOPped scheduler that wakes after a takeover binds nothing and exits', async (t) => {
    const frozen = await waitFor('a leading scheduler', () => leader(schedulers), 60_000);
    const stream = new PodStream(cp.client, 'stop');
    stream.start();
    let takeoverSeen = 0;
    try {
      await waitFor('the leader to bind pods', async () => (await podsOf(cp.client, 'stop')).filter((p) => p.spec?.nodeName).length >= 10, 60_000, 200);
      frozen.proc.child.kill('SIGSTOP');
      const stoppedAt = Date.now();
      const next = await waitFor('another scheduler to lead', () => leader(schedulers.filter((c) => c !== frozen)), 60_000, 100);
      takeoverSeen = Date.now();
      t.diagnostic(`SIGSTOP → ${next.proc.name} ready as leader in ${takeoverSeen - stoppedAt} ms`);
      // pods keep arriving, the frozen one has a backlog of them in its watch; now it wakes
      const boundBefore = (await podsOf(cp.client, 'stop')).filter((p) => p.spec?.nodeName).length;
      await waitFor('the new leader to bind new pods', async () => (await podsOf(cp.client, 'stop')).filter((p) => p.spec?.nodeName).length >= boundBefore + 5, 60_000, 200);
      frozen.proc.child.kill('SIGCONT');
      const { code } = await waitFor('the woken scheduler to exit', () => Promise.race([frozen.proc.exited, new Promise<false>((r) => setTimeout(() => r(false), 500))]), 30_000, 0);
      assert.equal(code, 1, 'a scheduler that lost its lease exits 1');
      const boundAtExit = (await podsOf(cp.client, 'stop')).filter((p) => p.spec?.nodeName).length;
      await waitFor('pods after the wake-up to be bound', async () => (await podsOf(cp.client, 'stop')).filter((p) => p.spec?.nodeName).length >= boundAtExit + 5, 60_000, 200);
    } finally {
      await stream.stop();
    }
    const { pods, events } = await allBound('stop');
    assertSingleHanded(pods, events);
    const ts = terms(events, 'kube-scheduler', schedulers.map((c) => c.pid));
    const takeover = [...ts].reverse().find((x) => x.pid !== frozen.pid)!;
    assert.ok(takeover.from < takeoverSeen, 'the takeover is in the audit log');
    const late = events.filter((e) => pidOf(e) === frozen.pid && isWrite(e) && Date.parse(e.requestReceivedTimestamp) >= takeover.from);
    assert.deepEqual(late.filter((e) => e.objectRef?.resource !== 'leases').map((e) => `${e.verb} ${e.requestURI} ${e.responseStatus.code}`), [], 'the woken scheduler sent no write but to its Lease after the takeover');
    assert.ok(late.every((e) => !ok(e)), 'and no Lease write of it succeeded');
    const fenced = (await readFile(frozen.proc.logFile, 'utf8')).split('\n').filter((l) => l.includes('not sent: not holding')).length;
    t.diagnostic(`${pods.length} pods, each bound once; after the takeover the woken scheduler sent ${late.length} Lease request(s), all refused, and held back ${fenced} write(s) at its fence`);
  });

  it('a SIGKILLed controller manager is replaced while a Deployment scales: one ReplicaSet, each pod created once', async (t) => {
    const cms: Candidate[] = [];
    for (let i = 1; i <= 2; i++) cms.push(await start('controllers', `controllers-${i}`, ['--cluster-cidr', '10.244.0.0/16']));
    const old = await waitFor('a leading controller manager', () => leader(cms), 60_000);
    await cp.client.create<Deployment>(DEPLOYMENTS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'le-web', namespace: 'default' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'le-web' } }, template: { metadata: { labels: { app: 'le-web' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } },
    });
    const webPods = async () => (await cp.client.list<Pod>(PODS, { namespace: 'default', labelSelector: 'app=le-web' })).items.filter((p) => !p.metadata?.deletionTimestamp);
    await waitFor('3 pods of le-web', async () => (await webPods()).length === 3, 60_000, 200);
    old.proc.child.kill('SIGKILL');
    await old.proc.exited;
    const killedAt = Date.now();
    await cp.client.patch(DEPLOYMENTS, 'le-web', { spec: { replicas: 6 } }, { namespace: 'default', type: 'merge' });
    const next = await waitFor('another controller manager to lead', () => leader(cms), 60_000, 100);
    t.diagnostic(`SIGKILL → ${next.proc.name} ready as leader in ${Date.now() - killedAt} ms`);
    const rsOf = async () => (await cp.client.list<ReplicaSet>(REPLICASETS, { namespace: 'default' })).items.filter((r) => r.metadata?.ownerReferences?.some((o) => o.name === 'le-web'));
    await waitFor('6 pods of le-web from one ReplicaSet', async () => {
      const [rss, pods] = await Promise.all([rsOf(), webPods()]);
      return rss.length === 1 && rss[0].spec?.replicas === 6 && pods.length === 6;
    }, 60_000, 200);
    const [rs] = await rsOf();
    const pods = await webPods();
    assert.ok(pods.every((p) => p.metadata?.ownerReferences?.[0]?.uid === rs.metadata?.uid), 'every pod belongs to the one ReplicaSet');
    const byCms = (e: AuditEvent) => cms.some((c) => c.pid === pidOf(e)) && ok(e) && e.verb === 'create';
    // created with generateName, so the audit event names no pod: count them
    const podCreates = (ev: AuditEvent[]) => ev.filter((e) => byCms(e) && e.objectRef?.resource === 'pods' && !e.objectRef.subresource && e.objectRef.namespace === 'default');
    const events = await waitFor('the audit log to show the pod creations', async () => {
      const ev = await readAudit(cp.auditLog);
      return podCreates(ev).length >= 6 && ev;
    }, 30_000, 500);
    assert.equal(events.filter((e) => byCms(e) && e.objectRef?.resource === 'replicasets').length, 1, 'one ReplicaSet created, once');
    assert.equal(podCreates(events).length, 6, 'six pods created, none twice');
    const outside = writesOutsideTerm(events, 'kube-controller-manager', cms.map((c) => c.pid));
    assert.deepEqual(outside.map((e) => `${name(cms, pidOf(e))} ${e.verb} ${e.requestURI} ${e.responseStatus.code}`), [], 'no controller manager writes outside its term as leader');
    const ts = terms(events, 'kube-controller-manager', cms.map((c) => c.pid));
    assert.deepEqual(ts.map((x) => x.pid), [old.pid, next.pid], 'the killed leader, then its successor');
  });
});
