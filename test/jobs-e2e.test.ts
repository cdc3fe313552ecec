/**
 * Issue 12, Jobs and CronJobs on a `coxswain up` cluster (real controllers, scheduler, kubelet
 * and Docker containers) driven with the real kubectl 1.32: parallelism is never exceeded and a
 * Job ends Complete with its completions; a failing Job ends Failed with BackoffLimitExceeded
 * after backoffLimit+1 pods; an Indexed Job's pods see their index; `kubectl wait` and
 * `kubectl logs job/x` work; ttlSecondsAfterFinished deletes a finished Job; a kill -9 of the
 * controllers in the middle of a Job counts no pod twice; a CronJob fires at the next minute,
 * `kubectl create job --from=cronjob/x` works and Forbid starts no second run while one is active.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import type { CronJob, Job } from 'kubernetes-types/batch/v1';
import type { KubeObject } from '../lib/client';
import { CRONJOBS, JOBS, PODS } from '../lib/resources';
import { pidsMatching, startUp, tearDownUp, type UpCluster } from './lib/up';
import { waitFor } from './lib/util';
import { kubectlFor } from './lib/kubectl';

const NODE = 'jobs-node';
const SERVICE_CIDR = '10.153.0.0/16';
const CLUSTER_CIDR = '10.253.0.0/16';
const NODE_PORTS = '31700-31799';
const NS = 'batch';


const jobYaml = (name: string, spec: string, command: string, restartPolicy = 'Never') => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
${spec.split('\n').filter(Boolean).map((l) => `  ${l}`).join('\n')}
  template:
    spec:
      restartPolicy: ${restartPolicy}
      terminationGracePeriodSeconds: 1
      containers:
      - name: work
        image: busybox:1.36
        command: [sh, -c, ${JSON.stringify(command)}]
`;

const cronYaml = (name: string, policy: string, command: string) => `apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${name}
spec:
  schedule: "*/1 * * * *"
  concurrencyPolicy: ${policy}
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - name: work
            image: busybox:1.36
            command: [sh, -c, ${JSON.stringify(command)}]
`;

describe('Jobs and CronJobs', { timeout: 15 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;

  const { k, kok } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));
  const getJob = (name: string) => cluster.client().get<Job & KubeObject>(JOBS, name, NS);
  const jobPods = async (name: string) => (await cluster.client().list<Pod & KubeObject>(PODS, { namespace: NS, labelSelector: `job-name=${name}` })).items;
  const condition = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-jobs-'));
    cache = path.join(home, 'kubectl-cache');
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS });
    await kok(['create', 'namespace', NS]);
  });

  after(async () => {
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('completions 5, parallelism 2: never more than 2 active pods; Complete with 5 succeeded; kubectl wait and logs job/x', async (t) => {
    const active = new Set<string>();
    let maxActive = 0;
    const stop = new AbortController();
    const watching = cluster.client().watch<Pod & KubeObject>(PODS, { namespace: NS, labelSelector: 'job-name=par', signal: stop.signal }, (ev) => {
      const p = ev.object;
      const name = p.metadata?.name ?? '';
      const running = ev.type !== 'DELETED' && !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
      if (running) active.add(name);
      else active.delete(name);
      maxActive = Math.max(maxActive, active.size);
    });
    assert.equal(await kok(['-n', NS, 'apply', '-f', '-'], { input: jobYaml('par', 'completions: 5\nparallelism: 2', 'echo hello from $(hostname); sleep 2') }), 'job.batch/par created\n');
    assert.equal(await kok(['-n', NS, 'wait', '--for=condition=Complete', 'job/par', '--timeout=180s'], { timeoutMs: 190_000 }), 'job.batch/par condition met\n');
    stop.abort();
    await watching.catch(() => undefined);
    const job = await waitFor('status.succeeded 5 (the last pods counted)', async () => {
      const j = await getJob('par');
      return j.status?.succeeded === 5 && !j.status.uncountedTerminatedPods?.succeeded?.length ? j : undefined;
    }, 30_000, 250);
    t.diagnostic(`max active pods ${maxActive}; status ${JSON.stringify(job.status)}`);
    assert.equal(maxActive, 2);
    assert.equal(job.status?.failed ?? 0, 0);
    assert.equal(job.status?.active ?? 0, 0);
    assert.ok(job.status?.startTime && job.status.completionTime);
    assert.equal(condition(job, 'Complete')?.reason, 'CompletionsReached');
    assert.ok(condition(job, 'SuccessCriteriaMet'));
    const pods = await jobPods('par');
    assert.equal(pods.filter((p) => p.status?.phase === 'Succeeded').length, 5);
    assert.ok(pods.every((p) => !p.metadata?.finalizers?.length), 'every pod released');
    assert.ok(pods.every((p) => p.metadata?.labels?.['batch.kubernetes.io/controller-uid'] === job.metadata?.uid && p.metadata?.labels?.['controller-uid'] === job.metadata?.uid));
    const row = (await kok(['-n', NS, 'get', 'job', 'par'])).split('\n')[1];
    t.diagnostic(row);
    assert.match(row, /^par\s+Complete\s+5\/5\s+/);
    assert.match(await kok(['-n', NS, 'logs', 'job/par']), /^hello from par-[a-z0-9]{5}\n$/);
  });

  it('a failing Job: backoffLimit+1 pods, then Failed with BackoffLimitExceeded', async (t) => {
    await kok(['-n', NS, 'apply', '-f', '-'], { input: jobYaml('fail', 'backoffLimit: 1', 'echo failing; exit 3') });
    assert.equal(await kok(['-n', NS, 'wait', '--for=condition=Failed', 'job/fail', '--timeout=120s'], { timeoutMs: 130_000 }), 'job.batch/fail condition met\n');
    const job = await waitFor('status.failed 2', async () => {
      const j = await getJob('fail');
      return j.status?.failed === 2 ? j : undefined;
    }, 30_000, 250);
    t.diagnostic(JSON.stringify(job.status?.conditions));
    const failed = condition(job, 'Failed');
    assert.equal(failed?.reason, 'BackoffLimitExceeded');
    assert.equal(failed?.message, 'Job has reached the specified backoff limit');
    assert.equal((await jobPods('fail')).length, 2);
    const events = await kok(['-n', NS, 'get', 'events', '--field-selector', 'involvedObject.name=fail,reason=BackoffLimitExceeded', '-o', 'name']);
    assert.notEqual(events.trim(), '');
  });

  it('an Indexed Job: each pod sees JOB_COMPLETION_INDEX and its hostname; completedIndexes 0-2; ttlSecondsAfterFinished deletes it', async () => {
    await kok(['-n', NS, 'apply', '-f', '-'], { input: jobYaml('idx', 'completions: 3\nparallelism: 3\ncompletionMode: Indexed', 'echo index=$JOB_COMPLETION_INDEX host=$(hostname)') });
    await kok(['-n', NS, 'wait', '--for=condition=Complete', 'job/idx', '--timeout=120s'], { timeoutMs: 130_000 });
    const job = await getJob('idx');
    assert.equal(job.status?.completedIndexes, '0-2');
    assert.equal(job.status?.succeeded, 3);
    const seen: string[] = [];
    for (const p of await jobPods('idx')) {
      const ix = p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'];
      const log = await kok(['-n', NS, 'logs', p.metadata!.name!]);
      assert.equal(log, `index=${ix} host=idx-${ix}\n`);
      seen.push(ix!);
    }
    assert.deepEqual(seen.sort(), ['0', '1', '2']);

    await kok(['-n', NS, 'apply', '-f', '-'], { input: jobYaml('ttl', 'ttlSecondsAfterFinished: 2', 'true') });
    await kok(['-n', NS, 'wait', '--for=condition=Complete', 'job/ttl', '--timeout=120s'], { timeoutMs: 130_000 });
    await waitFor('job ttl deleted after its TTL', async () => (await k(['-n', NS, 'get', 'job', 'ttl'])).stderr.includes('NotFound') || undefined, 30_000, 250);
    await waitFor('its pods deleted by the garbage collector', async () => ((await jobPods('ttl')).length === 0) || undefined, 30_000, 250);
  });

  it('podReplacementPolicy Failed: the replacement waits until the deleted pod is terminated; backoffLimitPerIndex: one index fails alone, Failed FailedIndexes', async (t) => {
    const started = Date.now();
    const events: string[] = [];
    let maxTerminating = 0;
    const stop = new AbortController();
    const podWatch = cluster.client().watch<Pod & KubeObject>(PODS, { namespace: NS, labelSelector: 'job-name=onlyfailed', signal: stop.signal }, (ev) => {
      const m = ev.object.metadata;
      if (ev.type === 'ADDED') events.push(`ADDED ${m?.name}`);
      else if (ev.type === 'DELETED') events.push(`DELETED ${m?.name}`);
      else if (m?.deletionGracePeriodSeconds === 0 && !events.includes(`TERMINATED ${m?.name}`)) events.push(`TERMINATED ${m?.name}`);
    });
    const jobWatch = cluster.client().watch<Job & KubeObject>(JOBS, { namespace: NS, fieldSelector: 'metadata.name=onlyfailed', signal: stop.signal }, (ev) => {
      maxTerminating = Math.max(maxTerminating, ev.object.status?.terminating ?? 0);
    });
    // a pod that ignores SIGTERM: it stays terminating for its whole 8 s grace period, long enough
    // for the controller to write status.terminating even on a loaded machine (4 s was not, once)
    const stubborn = jobYaml('onlyfailed', 'podReplacementPolicy: Failed', 'trap "" TERM; while true; do sleep 1; done').replace('terminationGracePeriodSeconds: 1', 'terminationGracePeriodSeconds: 8');
    await kok(['-n', NS, 'apply', '-f', '-'], { input: stubborn });
    await kok(['-n', NS, 'apply', '-f', '-'], { input: jobYaml('perindex', 'completions: 3\nparallelism: 3\ncompletionMode: Indexed\nbackoffLimitPerIndex: 1', '[ "$JOB_COMPLETION_INDEX" != 1 ]') });
    const first = await waitFor('onlyfailed pod running', async () => (await jobPods('onlyfailed')).find((p) => p.status?.phase === 'Running'), 60_000, 250);
    await kok(['-n', NS, 'delete', 'pod', first.metadata!.name!, '--wait=false']);
    const second = await waitFor('a replacement pod', async () => (await jobPods('onlyfailed')).find((p) => p.metadata?.uid !== first.metadata?.uid), 60_000, 250);
    stop.abort();
    await Promise.all([podWatch.catch(() => undefined), jobWatch.catch(() => undefined)]);
    t.diagnostic(events.join(', '));
    const added = events.indexOf(`ADDED ${second.metadata?.name}`);
    const terminated = events.findIndex((e) => e === `TERMINATED ${first.metadata?.name}` || e === `DELETED ${first.metadata?.name}`);
    assert.ok(terminated >= 0 && added > terminated, `the replacement (${added}) only after the old pod was terminated (${terminated})`);
    assert.equal(maxTerminating, 1, 'status.terminating counted the terminating pod');
    assert.equal((await getJob('onlyfailed')).status?.failed, 1);

    await kok(['-n', NS, 'wait', '--for=condition=Failed', 'job/perindex', '--timeout=90s'], { timeoutMs: 100_000 });
    const job = await waitFor('perindex counted', async () => {
      const j = await getJob('perindex');
      return j.status?.failed === 2 ? j : undefined;
    }, 30_000, 250);
    assert.equal(condition(job, 'Failed')?.reason, 'FailedIndexes');
    assert.equal(job.status?.failedIndexes, '1');
    assert.equal(job.status?.completedIndexes, '0,2');
    const counts = (await jobPods('perindex')).filter((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] === '1')
      .map((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-index-failure-count']).sort();
    assert.deepEqual(counts, ['0', '1'], 'index 1 ran twice (backoffLimitPerIndex 1), its second pod carrying one failure');
    await kok(['-n', NS, 'delete', 'job', 'onlyfailed', 'perindex', '--wait=false']);
    t.diagnostic(`took ${Date.now() - started} ms`);
  });

  it('kill -9 of the controllers in the middle of a Job: exactly `completions` succeeded, none counted twice', async (t) => {
    await kok(['-n', NS, 'apply', '-f', '-'], { input: jobYaml('crash', 'completions: 6\nparallelism: 2', 'sleep 3') });
    await waitFor('two pods succeeded and counted or recorded', async () => {
      const j = await getJob('crash');
      return (j.status?.succeeded ?? 0) + (j.status?.uncountedTerminatedPods?.succeeded?.length ?? 0) >= 2 || undefined;
    }, 120_000, 100);
    const pids = pidsMatching(home).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('controllers');
      } catch {
        return false;
      }
    });
    assert.equal(pids.length, 1, `one controllers process (${pids.join(',')})`);
    process.kill(pids[0], 'SIGKILL');
    t.diagnostic(`killed controllers pid ${pids[0]} at ${JSON.stringify((await getJob('crash')).status)}`);
    await kok(['-n', NS, 'wait', '--for=condition=Complete', 'job/crash', '--timeout=240s'], { timeoutMs: 250_000 });
    const job = await waitFor('every success counted', async () => {
      const j = await getJob('crash');
      return !j.status?.uncountedTerminatedPods?.succeeded?.length ? j : undefined;
    }, 30_000, 250);
    const pods = await jobPods('crash');
    t.diagnostic(`status ${JSON.stringify(job.status)}; ${pods.length} pods`);
    assert.equal(job.status?.succeeded, 6);
    assert.equal(pods.filter((p) => p.status?.phase === 'Succeeded').length, 6);
    assert.ok(pods.every((p) => !p.metadata?.finalizers?.length));
  });

  it('a CronJob fires at the next minute; create job --from=cronjob; Forbid starts no second run', async (t) => {
    // a minute boundary in the next few seconds would race the manual run below: let it pass
    const sec = new Date().getUTCSeconds();
    if (sec > 48) await new Promise((r) => setTimeout(r, (61 - sec) * 1000));
    await kok(['-n', NS, 'apply', '-f', '-'], { input: cronYaml('tick', 'Allow', 'echo tick') });
    await kok(['-n', NS, 'apply', '-f', '-'], { input: cronYaml('solo', 'Forbid', 'sleep 600') });
    assert.equal(await kok(['-n', NS, 'create', 'job', 'solo-manual', '--from=cronjob/solo']), 'job.batch/solo-manual created\n');
    const manual = await getJob('solo-manual');
    assert.equal(manual.metadata?.annotations?.['cronjob.kubernetes.io/instantiate'], 'manual');
    assert.equal(manual.metadata?.ownerReferences?.[0].kind, 'CronJob');
    await waitFor('the manual run is active', async () => ((await getJob('solo-manual')).status?.active ?? 0) >= 1 || undefined, 60_000, 250);

    const scheduled = await waitFor('a scheduled run of tick', async () => {
      const jobs = (await cluster.client().list<Job & KubeObject>(JOBS, { namespace: NS })).items;
      return jobs.find((j) => j.metadata?.ownerReferences?.[0]?.name === 'tick');
    }, 70_000, 250);
    const minutes = Number(scheduled.metadata!.name!.slice('tick-'.length));
    const stamp = scheduled.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'];
    t.diagnostic(`${scheduled.metadata?.name} scheduled ${stamp}`);
    assert.equal(Date.parse(stamp!), minutes * 60_000);
    await kok(['-n', NS, 'wait', '--for=condition=Complete', `job/${scheduled.metadata!.name}`, '--timeout=60s'], { timeoutMs: 70_000 });
    const tick = await waitFor('tick status: lastSuccessfulTime, no active run', async () => {
      const c = await cluster.client().get<CronJob & KubeObject>(CRONJOBS, 'tick', NS);
      return c.status?.lastSuccessfulTime && !c.status.active?.length ? c : undefined;
    }, 30_000, 250);
    assert.equal(Date.parse(tick.status!.lastScheduleTime!), minutes * 60_000);

    // the same minute passed for solo: its manual run was active, so Forbid skipped it
    await waitFor('JobAlreadyActive on solo', async () => {
      const out = await kok(['-n', NS, 'get', 'events', '--field-selector', 'involvedObject.name=solo,reason=JobAlreadyActive', '-o', 'name']);
      return out.trim() || undefined;
    }, 30_000, 250);
    const soloJobs = (await cluster.client().list<Job & KubeObject>(JOBS, { namespace: NS })).items.filter((j) => j.metadata?.ownerReferences?.[0]?.name === 'solo');
    assert.deepEqual(soloJobs.map((j) => j.metadata?.name), ['solo-manual']);
    const solo = await cluster.client().get<CronJob & KubeObject>(CRONJOBS, 'solo', NS);
    assert.deepEqual(solo.status?.active?.map((r) => r.name), ['solo-manual']);
    const row = (await kok(['-n', NS, 'get', 'cronjob', 'solo'])).split('\n')[1];
    assert.match(row, /^solo\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+1\s+/);
  });

  it('a malformed schedule is refused with Kubernetes\' message', async () => {
    const r = await k(['-n', NS, 'apply', '-f', '-'], { input: cronYaml('bad', 'Allow', 'true').replace('"*/1 * * * *"', '"*/1 * * *"') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.schedule: Invalid value: "\*\/1 \* \* \*": expected exactly 5 fields, found 4: \[\*\/1 \* \* \*\]/);
  });
});
