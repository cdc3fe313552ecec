/**
 * Issue 12, StatefulSets with the real kubectl 1.32 against a `coxswain up` cluster (real
 * scheduler, controllers, kubelet and Docker containers): pods appear one by one in ordinal
 * order with stable hostnames; a deleted pod comes back under its name; scale-down removes the
 * highest ordinal first, one at a time; Parallel creates all at once; a rolling update goes
 * from the highest ordinal down and `kubectl rollout status|history|undo|restart` work; the
 * claims of volumeClaimTemplates are created and kept on scale-down; the controllers process
 * kill -9'd mid-rollout never runs an ordinal twice. A watch on the pods checks throughout that
 * no pod is ever created while the previous pod of its name still exists, and a poll of Docker
 * that no two pods of one name ever run containers at once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import { Informer } from '../lib/informer';
import { PODS } from '../lib/resources';
import { sh } from './lib/docker';
import { startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';
import { kubectlFor } from './lib/kubectl';

const NODE = 'cxs2-sts';
const SERVICE_CIDR = '10.141.0.0/16';
const CLUSTER_CIDR = '10.241.0.0/16';
const NODE_PORTS = '32700-32799';
const NS = 'sts';


const statefulSet = (name: string, o: { replicas: number; policy?: string; env?: string; extra?: string; probeDelay?: number }) => `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ${name}
spec:
  serviceName: ${name}
  replicas: ${o.replicas}
  podManagementPolicy: ${o.policy ?? 'OrderedReady'}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox:1.36
        command: [sh, -c, "trap 'exit 0' TERM; sleep 3600 & wait"]
${o.env ? `        env: [{name: VERSION, value: "${o.env}"}]\n` : ''}${o.probeDelay ? `        readinessProbe: {exec: {command: ["true"]}, initialDelaySeconds: ${o.probeDelay}, periodSeconds: 1}\n` : ''}${o.extra ?? ''}`;

const HEADLESS = (name: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  clusterIP: None
  selector: {app: ${name}}
  ports: [{port: 80}]
`;

/** One line per pod event, in watch order, and every time a pod was created while its name was taken. */
interface PodLog {
  events: string[];
  overlaps: string[];
}

describe('StatefulSets with kubectl', { timeout: 15 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  let informer: Informer<Pod>;
  const log: PodLog = { events: [], overlaps: [] };
  const dockerOverlaps: string[] = [];
  let dockerPoll: NodeJS.Timeout | undefined;

  const { k, kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache, namespace: NS }));
  const ready = (set: string, n: number) => waitFor(`${set}: ${n} ready replicas`, async () => (await jp(['get', 'sts', set], '{.status.readyReplicas}/{.status.replicas}')) === `${n}/${n}`, 120_000, 250);
  /** Index in the event log of the first line matching `re` (after `from`), or -1. */
  const at = (re: RegExp, from = 0) => log.events.findIndex((e, i) => i >= from && re.test(e));
  const podNames = async (set: string) => (await jp(['get', 'pods', '-l', `app=${set}`], '{.items[*].metadata.name}')).split(/\s+/).filter(Boolean).sort();

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-sts-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    await kok(['create', 'namespace', NS]);
    // Every pod event in the namespace, in order; a pod created while its name is live is an overlap.
    const live = new Map<string, string>();
    const ready = new Set<string>();
    informer = new Informer<Pod>(cluster.client(), PODS, { namespace: NS });
    informer.on({
      add: (p) => {
        const name = p.metadata!.name!;
        if (live.has(name)) log.overlaps.push(`${name} ${p.metadata?.uid} added while ${live.get(name)} exists`);
        live.set(name, p.metadata!.uid!);
        log.events.push(`ADDED ${name}`);
      },
      update: (o, p) => {
        const name = p.metadata!.name!;
        if (o.metadata?.uid !== p.metadata?.uid) log.overlaps.push(`${name} replaced (${o.metadata?.uid} → ${p.metadata?.uid}) without a delete`);
        if (p.metadata?.deletionTimestamp && !o.metadata?.deletionTimestamp) log.events.push(`TERMINATING ${name}`);
        const isReady = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        if (isReady && !ready.has(p.metadata!.uid!)) {
          ready.add(p.metadata!.uid!);
          log.events.push(`READY ${name}`);
        }
      },
      delete: (p) => {
        live.delete(p.metadata!.name!);
        log.events.push(`DELETED ${p.metadata?.name}`);
      },
    });
    await informer.start();
    // Docker: two pods (uids) of one name with running containers at the same moment.
    const poll = async () => {
      const out = await sh('docker', ['ps', '--filter', `label=coxswain.node=${NODE}`, '--format', '{{.Label "io.kubernetes.pod.name"}} {{.Label "io.kubernetes.pod.uid"}} {{.Label "io.kubernetes.pod.namespace"}} {{.Label "io.kubernetes.container.name"}}']).catch(() => '');
      const uids = new Map<string, Set<string>>();
      for (const line of out.split('\n')) {
        const [name, uid, ns, container] = line.trim().split(' ');
        // the workload's containers, not the sandbox (pause) the kubelet may remove a moment later
        if (ns !== NS || !name || !uid || container === 'POD') continue;
        if (!uids.has(name)) uids.set(name, new Set());
        uids.get(name)!.add(uid);
      }
      for (const [name, set] of uids) if (set.size > 1) dockerOverlaps.push(`${name}: ${[...set].join(', ')}`);
      dockerPoll = setTimeout(() => void poll(), 300);
    };
    void poll();
  });

  after(async () => {
    if (dockerPoll) clearTimeout(dockerPoll);
    dockerPoll = undefined;
    await informer?.stop();
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('a bad spec gets Kubernetes\' validation error', async () => {
    const bad = statefulSet('bad', { replicas: 1 }).replace('matchLabels: {app: bad}', 'matchLabels: {app: other}');
    const r = await k(['apply', '-f', '-'], { input: bad });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The StatefulSet "bad" is invalid: spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/);
  });

  it('OrderedReady: pods appear one by one, each after the previous is Ready, with stable hostnames', async (t) => {
    await kok(['apply', '-f', '-'], { input: HEADLESS('web') });
    assert.equal(await kok(['apply', '-f', '-'], { input: statefulSet('web', { replicas: 3, env: 'one', probeDelay: 1 }) }), 'statefulset.apps/web created\n');
    await ready('web', 3);
    t.diagnostic(log.events.join('\n'));
    for (let i = 1; i < 3; i++) {
      const added = at(new RegExp(`^ADDED web-${i}$`));
      const prevReady = at(new RegExp(`^READY web-${i - 1}$`));
      assert.ok(prevReady >= 0 && added > prevReady, `web-${i} created (${added}) after web-${i - 1} was Ready (${prevReady})`);
    }
    assert.deepEqual(await podNames('web'), ['web-0', 'web-1', 'web-2']);
    for (let i = 0; i < 3; i++) {
      assert.equal((await kok(['exec', `web-${i}`, '--', 'hostname'])).trim(), `web-${i}`);
      assert.equal(await jp(['get', 'pod', `web-${i}`], '{.spec.subdomain} {.metadata.labels.statefulset\\.kubernetes\\.io/pod-name} {.metadata.labels.apps\\.kubernetes\\.io/pod-index}'), `web web-${i} ${i}`);
    }
    const row = (await kok(['get', 'sts', 'web'])).split('\n')[1];
    assert.match(row, /^web\s+3\/3\s+/);
  });

  it('a deleted pod comes back with the same name (and a new uid)', async () => {
    const uid = await jp(['get', 'pod', 'web-1'], '{.metadata.uid}');
    const from = log.events.length;
    await kok(['delete', 'pod', 'web-1', '--wait=false']);
    await waitFor('web-1 back with a new uid and Ready', async () => {
      const r = await k(['get', 'pod', 'web-1', '-o', 'jsonpath={.metadata.uid} {.status.conditions[?(@.type=="Ready")].status}']);
      return r.code === 0 && !r.stdout.startsWith(uid) && r.stdout.endsWith('True');
    }, 60_000, 250);
    assert.ok(at(/^DELETED web-1$/, from) < at(/^ADDED web-1$/, from), 'the old web-1 was gone before the new one was created');
    assert.equal((await kok(['exec', 'web-1', '--', 'hostname'])).trim(), 'web-1');
  });

  it('scale down removes the highest ordinal first, one at a time', async () => {
    const from = log.events.length;
    await kok(['scale', 'sts', 'web', '--replicas=1']);
    await waitFor('only web-0 left', async () => (await podNames('web')).join(',') === 'web-0', 60_000, 250);
    const t2 = at(/^TERMINATING web-2$/, from);
    const d2 = at(/^DELETED web-2$/, from);
    const t1 = at(/^TERMINATING web-1$/, from);
    assert.ok(t2 >= 0 && d2 > t2 && t1 > d2, `web-2 terminated and gone (${t2}, ${d2}) before web-1 started terminating (${t1})`);
    await kok(['scale', 'sts', 'web', '--replicas=3']);
    await ready('web', 3);
  });

  it('Parallel: all pods are created at once, without waiting for readiness', async () => {
    const from = log.events.length;
    await kok(['apply', '-f', '-'], { input: statefulSet('par', { replicas: 3, policy: 'Parallel', probeDelay: 3 }) });
    await ready('par', 3);
    const firstReady = at(/^READY par-/, from);
    for (let i = 0; i < 3; i++) assert.ok(at(new RegExp(`^ADDED par-${i}$`), from) < firstReady, `par-${i} created before any par pod was Ready`);
  });

  it('delete --cascade=orphan, then the same StatefulSet again: it adopts the running pods (same uids, no restart) and its revision', async (t) => {
    const started = Date.now();
    const pods = (set: string) => jp(['get', 'pods', '-l', `app=${set}`], '{range .items[*]}{.metadata.name}={.metadata.uid}/{.metadata.ownerReferences[0].uid}/{.status.containerStatuses[0].restartCount}{"\\n"}{end}');
    const oldSet = await jp(['get', 'sts', 'par'], '{.metadata.uid}');
    const before = (await pods('par')).trim().split('\n').sort();
    assert.equal(before.length, 3);
    const from = log.events.length;
    await kok(['delete', 'sts', 'par', '--cascade=orphan']);
    await waitFor('par pods orphaned', async () => (await jp(['get', 'pods', '-l', 'app=par'], '{.items[*].metadata.ownerReferences[0].uid}')).trim() === '', 30_000, 250);
    await kok(['apply', '-f', '-'], { input: statefulSet('par', { replicas: 3, policy: 'Parallel', probeDelay: 3 }) });
    const newSet = await jp(['get', 'sts', 'par'], '{.metadata.uid}');
    assert.notEqual(newSet, oldSet);
    await waitFor('par pods adopted by the new set', async () => (await jp(['get', 'pods', '-l', 'app=par'], '{.items[*].metadata.ownerReferences[0].uid}')).trim() === `${newSet} ${newSet} ${newSet}`, 30_000, 250);
    await ready('par', 3);
    const afterList = (await pods('par')).trim().split('\n').sort();
    assert.deepEqual(afterList, before.map((l) => l.replace(`/${oldSet}/`, `/${newSet}/`)), 'the same pods, now owned by the new set, not restarted');
    assert.deepEqual(log.events.slice(from).filter((e) => /^(ADDED|TERMINATING|DELETED) par-/.test(e)), [], 'no par pod created or deleted');
    assert.equal(await jp(['get', 'controllerrevisions', '-l', 'app=par'], '{.items[*].metadata.ownerReferences[0].uid}'), newSet, 'the one revision adopted, no new one');
    t.diagnostic(`orphan + adopt took ${Date.now() - started} ms`);
  });

  it('rolling update: highest ordinal first, rollout status returns; history lists revisions; undo goes back', async (t) => {
    const from = log.events.length;
    await kok(['apply', '-f', '-'], { input: statefulSet('web', { replicas: 3, env: 'two', probeDelay: 1 }) });
    const status = await kok(['rollout', 'status', 'sts/web', '--timeout=180s'], { timeoutMs: 200_000 });
    t.diagnostic(status);
    // kubectl 1.32 treats the defaulted partition (0) as a partitioned rollout (it prints the same against Kubernetes)
    assert.match(status, /partitioned roll out complete: 3 new pods have been updated\.\.\.\n$/);
    const order = [2, 1, 0].map((i) => at(new RegExp(`^TERMINATING web-${i}$`), from));
    assert.ok(order.every((x) => x >= 0) && order[0] < order[1] && order[1] < order[2], `terminated in order web-2, web-1, web-0: ${order}`);
    for (let i = 0; i < 3; i++) assert.equal(await jp(['get', 'pod', `web-${i}`], '{.spec.containers[0].env[0].value}'), 'two');
    const rev = await jp(['get', 'sts', 'web'], '{.status.currentRevision} {.status.updateRevision} {.status.updatedReplicas} {.status.currentReplicas}');
    const [cur, upd] = rev.split(' ');
    assert.equal(cur, upd);
    assert.equal(await jp(['get', 'pods', '-l', 'app=web'], '{.items[*].metadata.labels.controller-revision-hash}'), `${upd} ${upd} ${upd}`);

    const history = await kok(['rollout', 'history', 'sts/web']);
    t.diagnostic(history);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    const rev1 = await kok(['rollout', 'history', 'sts/web', '--revision=1']);
    assert.match(rev1, /VERSION:\s+one/);

    assert.equal(await kok(['rollout', 'undo', 'sts/web']), 'statefulset.apps/web rolled back\n');
    await kok(['rollout', 'status', 'sts/web', '--timeout=180s'], { timeoutMs: 200_000 });
    for (let i = 0; i < 3; i++) assert.equal(await jp(['get', 'pod', `web-${i}`], '{.spec.containers[0].env[0].value}'), 'one');
    assert.match(await kok(['rollout', 'history', 'sts/web']), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/, 'revision 1 renumbered 3');
    assert.equal((await jp(['get', 'controllerrevisions', '-l', 'app=web'], '{.items[*].revision}')).split(' ').sort().join(' '), '2 3');
  });

  it('rollout restart rolls every pod', async () => {
    const uids = await jp(['get', 'pods', '-l', 'app=web'], '{.items[*].metadata.uid}');
    assert.match(await kok(['rollout', 'restart', 'sts/web']), /statefulset\.apps\/web restarted/);
    await kok(['rollout', 'status', 'sts/web', '--timeout=180s'], { timeoutMs: 200_000 });
    const after = (await jp(['get', 'pods', '-l', 'app=web'], '{.items[*].metadata.uid}')).split(' ');
    for (const u of uids.split(' ')) assert.ok(!after.includes(u), 'every pod was replaced');
    assert.match(await jp(['get', 'pod', 'web-0'], '{.metadata.annotations}'), /kubectl\.kubernetes\.io\/restartedAt/);
  });

  it('volumeClaimTemplates: one claim per ordinal, created before the pod, kept on scale-down', async () => {
    const withClaims = statefulSet('db', { replicas: 2, policy: 'Parallel' }) + `  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Mi}}
`;
    await kok(['apply', '-f', '-'], { input: withClaims });
    await waitFor('claims data-db-0 and data-db-1', async () => (await jp(['get', 'pvc', '-l', 'app=db'], '{.items[*].metadata.name}')) === 'data-db-0 data-db-1', 60_000, 250);
    await waitFor('pods db-0 and db-1', async () => (await podNames('db')).join(',') === 'db-0,db-1', 60_000, 250);
    assert.equal(await jp(['get', 'pod', 'db-1'], '{.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}'), 'data-db-1');
    const created = await jp(['get', 'pvc', 'data-db-1'], '{.metadata.creationTimestamp}');
    assert.ok(created <= (await jp(['get', 'pod', 'db-1'], '{.metadata.creationTimestamp}')), 'the claim is not younger than its pod');
    await kok(['scale', 'sts', 'db', '--replicas=1']);
    await waitFor('db-1 gone', async () => (await podNames('db')).join(',') === 'db-0', 60_000, 250);
    assert.equal(await jp(['get', 'pvc', '-l', 'app=db'], '{.items[*].metadata.name}'), 'data-db-0 data-db-1', 'the claim of the removed ordinal is kept');
  });

  it('persistentVolumeClaimRetentionPolicy whenScaled: Delete: the claim of a scaled-away ordinal goes with its pod', async () => {
    const set = statefulSet('tmp', { replicas: 2, policy: 'Parallel' }) + `  persistentVolumeClaimRetentionPolicy: {whenDeleted: Retain, whenScaled: Delete}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Mi}}
`;
    await kok(['apply', '-f', '-'], { input: set });
    await waitFor('claims data-tmp-0 and data-tmp-1', async () => (await jp(['get', 'pvc', '-l', 'app=tmp'], '{.items[*].metadata.name}')) === 'data-tmp-0 data-tmp-1', 60_000, 250);
    await waitFor('pods tmp-0 and tmp-1', async () => (await podNames('tmp')).join(',') === 'tmp-0,tmp-1', 60_000, 250);
    assert.equal(await jp(['get', 'pvc', 'data-tmp-1'], '{.metadata.ownerReferences}'), '', 'in range: no owner (whenDeleted: Retain)');
    await kok(['scale', 'sts', 'tmp', '--replicas=1']);
    await waitFor('data-tmp-1 deleted after its pod', async () => (await jp(['get', 'pvc', '-l', 'app=tmp'], '{.items[*].metadata.name}')) === 'data-tmp-0', 60_000, 250);
    assert.deepEqual(await podNames('tmp'), ['tmp-0']);
  });

  it('the controllers process kill -9\'d mid-rollout: no ordinal ever runs twice', async (t) => {
    const controllersPid = () => {
      for (const d of readdirSync('/proc')) {
        if (!/^\d+$/.test(d)) continue;
        try {
          const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
          if (cmd.includes('controllers') && cmd.some((a) => a.startsWith(home))) return Number(d);
        } catch {
          // gone
        }
      }
      return undefined;
    };
    const pid = controllersPid();
    assert.ok(pid, 'found the controllers process of the test cluster');
    const from = log.events.length;
    await kok(['apply', '-f', '-'], { input: statefulSet('web', { replicas: 3, env: 'three', probeDelay: 1 }) });
    await waitFor('the rollout under way (web-2 replaced)', () => at(/^ADDED web-2$/, from) >= 0, 60_000, 50);
    const killedAt = log.events.length;
    process.kill(pid!, 'SIGKILL');
    await waitFor('a new controllers process', () => { const p = controllersPid(); return p !== undefined && p !== pid; }, 60_000, 250);
    const status = await kok(['rollout', 'status', 'sts/web', '--timeout=240s'], { timeoutMs: 260_000 });
    t.diagnostic(status);
    for (let i = 0; i < 3; i++) assert.equal(await jp(['get', 'pod', `web-${i}`], '{.spec.containers[0].env[0].value}'), 'three');
    assert.ok(at(/^ADDED web-0$/, killedAt) >= 0, 'web-0 was replaced after the kill: the restarted controllers finished the rollout');
    t.diagnostic(log.events.slice(from).join('\n'));
    assert.deepEqual(log.overlaps, [], 'no pod was created while its name was taken');
    assert.deepEqual(dockerOverlaps, [], 'no two pods of one name ever ran containers at once');
  });
});
