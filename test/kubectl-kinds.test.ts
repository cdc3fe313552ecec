import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startControllers } from '../controllers/main';
import { startControlPlane } from './lib/cluster';
import { waitFor } from './lib/util';

/**
 * The real kubectl 1.32 against the apiserver on a real etcd, for issue 4's kinds and
 * semantics: imperative `create` (protobuf bodies), server-side apply with conflicts,
 * dry-run, diff, cascading deletion with the controllers' garbage collector, edit, replace,
 * scale, wait, jsonpath, sort-by, discovery.
 */


type Result = { code: number; stdout: string; stderr: string };
function kubectl(kubeconfig: string, cacheDir: string, args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const p = execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { timeout: opts.timeoutMs ?? 30_000, env: { ...process.env, KUBECACHEDIR: cacheDir, ...(opts.env ?? {}) } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0, stdout, stderr });
    });
    if (opts.input !== undefined) { p.stdin!.write(opts.input); p.stdin!.end(); }
  });
}

const ok = (r: Result, what: string) => assert.equal(r.code, 0, `${what}: ${r.stderr}${r.stdout}`);

test('kubectl 1.32 against every issue-4 kind and semantic', { timeout: 240_000 }, async (t) => {
  const cp = await startControlPlane({ store: 'etcd' });
  let ctrl: Awaited<ReturnType<typeof startControllers>> | undefined;
  try {
    const kubeconfig = cp.kubeconfig;
    const cache = path.join(cp.dir, 'kubectl-cache');
    const k = (args: string[], opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number }) => kubectl(kubeconfig, cache, args, opts);

    await t.test('imperative create sends protobuf: namespace, configmap, secret, deployment, job, service', async () => {
      ok(await k(['create', 'namespace', 'team']), 'create ns');
      ok(await k(['-n', 'team', 'create', 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=b=2']), 'create cm');
      ok(await k(['-n', 'team', 'create', 'secret', 'generic', 'sec', '--from-literal=password=s3cret']), 'create secret');
      ok(await k(['-n', 'team', 'create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=80']), 'create deploy');
      ok(await k(['-n', 'team', 'create', 'job', 'once', '--image=busybox:1.36', '--', 'date']), 'create job');
      ok(await k(['-n', 'team', 'create', 'service', 'clusterip', 'web', '--tcp=80:8080']), 'create svc');
      const sec = await k(['-n', 'team', 'get', 'secret', 'sec', '-o', 'jsonpath={.data.password}']);
      assert.equal(Buffer.from(sec.stdout, 'base64').toString(), 's3cret');
      const dep = await k(['-n', 'team', 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].ports[0].containerPort} {.spec.template.spec.containers[0].image}']);
      assert.equal(dep.stdout, '2 80 nginx:1.27');
      const job = await k(['-n', 'team', 'get', 'job', 'once', '-o', 'jsonpath={.spec.template.spec.containers[0].command[0]} {.spec.template.spec.restartPolicy}']);
      assert.equal(job.stdout, 'date Never');
      const svc = await k(['-n', 'team', 'get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].targetPort}']);
      assert.equal(svc.stdout, '8080');
    });

    await t.test('get many kinds with Kubernetes columns', async () => {
      const manifest = `
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot, namespace: team}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: team}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: busybox:1.36}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: team}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: busybox:1.36}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: team}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec: {restartPolicy: OnFailure, containers: [{name: tick, image: busybox:1.36}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: team}
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: team}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: leader, namespace: team}
spec: {holderIdentity: node-a, leaseDurationSeconds: 15}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}
provisioner: coxswain.io/hostpath
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: team}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: robot, namespace: team}]
`;
      ok(await k(['apply', '-f', '-'], { input: manifest }), 'apply manifest');
      const r = await k(['-n', 'team', 'get', 'cm,secret,sa,sts,ds,job,cj,ing,pdb,lease,sc,role,rolebinding']);
      ok(r, 'get many');
      for (const re of [
        /^NAME\s+DATA\s+AGE\nconfigmap\/cfg\s+2\s/m,
        /^NAME\s+TYPE\s+DATA\s+AGE\nsecret\/sec\s+Opaque\s+1\s/m,
        /^serviceaccount\/robot\s+0\s/m,
        /^NAME\s+READY\s+AGE\nstatefulset\.apps\/db\s+0\/1\s/m,
        /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\ndaemonset\.apps\/agent\s+0\s+0\s+0\s+0\s+0\s+<none>/m,
        /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\njob\.batch\/once\s+Running\s+0\/1\s/m,
        /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\ncronjob\.batch\/tick\s+\*\/5 \* \* \* \*\s+<none>\s+False\s+0\s+<none>/m,
        /^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\ningress\.networking\.k8s\.io\/web\s+<none>\s+web\.example\.com\s+80\s/m,
        /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\npoddisruptionbudget\.policy\/web\s+1\s+N\/A\s+0\s/m,
        /^NAME\s+HOLDER\s+AGE\nlease\.coordination\.k8s\.io\/leader\s+node-a\s/m,
        /^storageclass\.storage\.k8s\.io\/local \(default\)\s+coxswain\.io\/hostpath\s+Delete\s+Immediate\s+false\s/m,
        /^NAME\s+CREATED AT\nrole\.rbac\.authorization\.k8s\.io\/reader\s+\d{4}-/m,
        /^NAME\s+ROLE\s+AGE\nrolebinding\.rbac\.authorization\.k8s\.io\/reader\s+Role\/reader\s/m,
      ]) assert.match(r.stdout, re);
      const wide = await k(['-n', 'team', 'get', 'rolebinding', 'reader', '-o', 'wide']);
      assert.match(wide.stdout, /reader\s+Role\/reader\s+\S+\s+team\/robot/);
    });

    await t.test('sort-by, jsonpath, label, annotate', async () => {
      for (const n of ['c3', 'c1', 'c2']) ok(await k(['-n', 'team', 'create', 'configmap', n, `--from-literal=n=${n}`]), `create ${n}`);
      const sorted = await k(['-n', 'team', 'get', 'cm', '--sort-by=.data.n', '-o', 'name']);
      ok(sorted, 'sort-by');
      assert.deepEqual(sorted.stdout.trim().split('\n').filter((l) => /c\d$/.test(l)), ['configmap/c1', 'configmap/c2', 'configmap/c3']);
      const jp = await k(['-n', 'team', 'get', 'cm', '-o', 'jsonpath={range .items[*]}{.metadata.name}{","}{end}']);
      assert.match(jp.stdout, /c1,c2,c3,cfg,/);
      ok(await k(['-n', 'team', 'label', 'cm', 'c1', 'tier=cache']), 'label');
      ok(await k(['-n', 'team', 'annotate', 'cm', 'c1', 'owner=ops']), 'annotate');
      const got = await k(['-n', 'team', 'get', 'cm', '-l', 'tier=cache', '-o', 'jsonpath={.items[*].metadata.name} {.items[0].metadata.annotations.owner}']);
      assert.equal(got.stdout, 'c1 ops');
    });

    await t.test('server-side apply twice with a conflict, then --force-conflicts; no-op apply keeps resourceVersion', async () => {
      const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: team}\ndata: {key: "${v}"}\n`;
      let r = await k(['apply', '--server-side', '-f', '-'], { input: cm('one') });
      ok(r, 'first ssa');
      assert.match(r.stdout, /configmap\/ssa serverside-applied/);
      const rv1 = (await k(['-n', 'team', 'get', 'cm', 'ssa', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout;
      ok(await k(['apply', '--server-side', '-f', '-'], { input: cm('one') }), 'same ssa again');
      assert.equal((await k(['-n', 'team', 'get', 'cm', 'ssa', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout, rv1, 'unchanged apply does not bump resourceVersion');
      r = await k(['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: cm('two') });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "kubectl" using v1: \.data\.key/);
      r = await k(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], { input: cm('two') });
      ok(r, 'forced');
      const mf = await k(['-n', 'team', 'get', 'cm', 'ssa', '-o', 'json', '--show-managed-fields']);
      const managers = JSON.parse(mf.stdout).metadata.managedFields.map((m: any) => `${m.manager}/${m.operation}`);
      assert.ok(managers.includes('other/Apply'), managers.join(','));
    });

    await t.test('apply --dry-run=server and diff store nothing', async () => {
      const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry, namespace: team}\ndata: {a: "1"}\n';
      const r = await k(['apply', '--dry-run=server', '-f', '-'], { input: cm });
      ok(r, 'dry-run');
      assert.match(r.stdout, /configmap\/dry created \(server dry run\)/);
      assert.equal((await k(['-n', 'team', 'get', 'cm', 'dry'])).code, 1);
      const d = await k(['diff', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: team}\ndata: {a: "1", b: "3"}\n' });
      assert.equal(d.code, 1, `diff exits 1 when there are differences: ${d.stderr}`);
      assert.match(d.stdout, /^-\s+b: "2"$/m);
      assert.match(d.stdout, /^\+\s+b: "3"$/m);
      assert.equal((await k(['-n', 'team', 'get', 'cm', 'cfg', '-o', 'jsonpath={.data.b}'])).stdout, '2');
    });

    await t.test('edit (EDITOR script), replace, scale, wait', async () => {
      const editor = path.join(cp.dir, 'editor.sh');
      writeFileSync(editor, '#!/bin/sh\nsed -i \'s/^  a: "1"$/  a: "edited"/\' "$1"\n');
      chmodSync(editor, 0o755);
      const e = await k(['-n', 'team', 'edit', 'cm', 'cfg'], { env: { EDITOR: editor, KUBE_EDITOR: editor } });
      ok(e, 'edit');
      assert.equal((await k(['-n', 'team', 'get', 'cm', 'cfg', '-o', 'jsonpath={.data.a}'])).stdout, 'edited');
      const cur = JSON.parse((await k(['-n', 'team', 'get', 'cm', 'cfg', '-o', 'json'])).stdout);
      cur.data.c = 'replaced';
      ok(await k(['replace', '-f', '-'], { input: JSON.stringify(cur) }), 'replace');
      assert.equal((await k(['-n', 'team', 'get', 'cm', 'cfg', '-o', 'jsonpath={.data.c}'])).stdout, 'replaced');
      ok(await k(['-n', 'team', 'scale', 'sts', 'db', '--replicas=3']), 'scale sts');
      assert.equal((await k(['-n', 'team', 'get', 'sts', 'db', '-o', 'jsonpath={.spec.replicas}'])).stdout, '3');
      // a condition set through the status subresource satisfies `kubectl wait`
      const waiting = k(['-n', 'team', 'wait', '--for=condition=Complete', 'job/once', '--timeout=30s']);
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const status = { status: { conditions: [{ type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now }], succeeded: 1, startTime: now, completionTime: now } };
      ok(await k(['-n', 'team', 'patch', 'job', 'once', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]), 'patch status');
      const w = await waiting;
      ok(w, 'wait');
      assert.match(w.stdout, /job\.batch\/once condition met/);
      assert.match((await k(['-n', 'team', 'get', 'job', 'once'])).stdout, /once\s+Complete\s+1\/1/);
    });

    await t.test('discovery: api-resources and api-versions; auth can-i', async () => {
      const r = await k(['api-resources']);
      ok(r, 'api-resources');
      for (const re of [/^configmaps\s+cm\s+v1\s+true\s+ConfigMap$/m, /^statefulsets\s+sts\s+apps\/v1\s+true\s+StatefulSet$/m, /^cronjobs\s+cj\s+batch\/v1\s+true\s+CronJob$/m,
        /^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/m, /^clusterrolebindings\s+rbac\.authorization\.k8s\.io\/v1\s+false\s+ClusterRoleBinding$/m,
        /^selfsubjectaccessreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectAccessReview$/m]) assert.match(r.stdout, re);
      const v = await k(['api-versions']);
      for (const gv of ['v1', 'apps/v1', 'batch/v1', 'autoscaling/v1', 'autoscaling/v2', 'networking.k8s.io/v1', 'discovery.k8s.io/v1', 'coordination.k8s.io/v1', 'storage.k8s.io/v1', 'policy/v1', 'rbac.authorization.k8s.io/v1', 'authorization.k8s.io/v1']) {
        assert.ok(v.stdout.split('\n').includes(gv), gv);
      }
      const can = await k(['auth', 'can-i', 'create', 'pods']);
      assert.equal(can.stdout.trim(), 'yes', can.stderr);
    });

    await t.test('delete --cascade=orphan and --cascade=foreground with the garbage collector', async () => {
      ctrl = await startControllers({ kubeconfig, clusterCidr: '10.244.0.0/16', nodeCidrMaskSize: 24, bindAddress: '127.0.0.1', port: 0, controllers: ['garbagecollector', 'deployment', 'replicaset'], nodeMonitorGracePeriodMs: 40_000 });
      const rsOf = async () => (await k(['-n', 'team', 'get', 'rs', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.trim();
      const rs = await waitFor('the deployment controller creates a ReplicaSet', async () => (await rsOf()) || undefined, 20_000);
      const del = await k(['-n', 'team', 'delete', 'deploy', 'web', '--cascade=orphan', '--timeout=30s']);
      ok(del, 'delete orphan');
      assert.equal((await k(['-n', 'team', 'get', 'deploy', 'web'])).code, 1, 'deployment gone');
      assert.equal(await rsOf(), rs, 'ReplicaSet kept');
      assert.equal((await k(['-n', 'team', 'get', 'rs', rs, '-o', 'jsonpath={.metadata.ownerReferences}'])).stdout, '', 'orphaned: no ownerReferences');
      // foreground: the owner waits for its dependents
      ok(await k(['-n', 'team', 'create', 'configmap', 'owner']), 'owner');
      const uid = (await k(['-n', 'team', 'get', 'cm', 'owner', '-o', 'jsonpath={.metadata.uid}'])).stdout;
      const dep = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dependent', namespace: 'team', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid, blockOwnerDeletion: true }] } };
      ok(await k(['create', '-f', '-'], { input: JSON.stringify(dep) }), 'dependent');
      const fg = await k(['-n', 'team', 'delete', 'cm', 'owner', '--cascade=foreground', '--timeout=30s']);
      ok(fg, 'delete foreground');
      assert.equal((await k(['-n', 'team', 'get', 'cm', 'owner'])).code, 1, 'owner gone');
      assert.equal((await k(['-n', 'team', 'get', 'cm', 'dependent'])).code, 1, 'dependent deleted first');
      // background (default): the collector removes the orphaned-by-deletion dependents
      ok(await k(['-n', 'team', 'delete', 'rs', rs]), 'delete rs');
    });

    await t.test('namespace deletion removes its contents', async () => {
      ok(await k(['delete', 'namespace', 'team', '--timeout=60s'], { timeoutMs: 70_000 }), 'delete ns');
      assert.equal((await k(['get', 'ns', 'team'])).code, 1);
    });
  } catch (e) {
    process.stderr.write(readFileSync(cp.apiserver.logFile, 'utf8').slice(-4000));
    throw e;
  } finally {
    await ctrl?.stop();
    await cp.stop();
  }
});
