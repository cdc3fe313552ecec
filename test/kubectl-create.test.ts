import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startControlPlane } from './lib/cluster';

/**
 * The real kubectl 1.32 against the apiserver on a real etcd: every `kubectl create <generator>`
 * for the kinds Coxswain serves (client-go sends these as protobuf), then bad input the way
 * users meet it — wrong scalar types and updates of immutable fields through `apply`,
 * `replace` and `patch` — asserting kubectl's exit code and Kubernetes' exact wording; and
 * `kubectl explain` over the served OpenAPI v3 schemas.
 */

type Result = { code: number; stdout: string; stderr: string };
function kubectl(kubeconfig: string, cacheDir: string, args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const p = execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { timeout: 60_000, env: { ...process.env, KUBECACHEDIR: cacheDir } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0, stdout, stderr });
    });
    if (input !== undefined) { p.stdin!.write(input); p.stdin!.end(); }
  });
}

const ok = (r: Result, what: string) => assert.equal(r.code, 0, `${what}: ${r.stderr}${r.stdout}`);
const fails = (r: Result, stderr: string, what: string) => {
  assert.equal(r.code, 1, `${what} should fail: ${r.stdout}${r.stderr}`);
  assert.equal(r.stderr.trim(), stderr, what);
};

test('kubectl create <generator> for every served kind; scalar types and immutable fields rejected like Kubernetes', { timeout: 300_000 }, async (t) => {
  const cp = await startControlPlane({ store: 'etcd', serviceCidr: '10.121.0.0/16', nodePortRange: '31300-31399' });
  try {
    const cache = path.join(cp.dir, 'kubectl-cache');
    const k = (args: string[], input?: string) => kubectl(cp.kubeconfig, cache, args, input);
    const json = async (args: string[]) => { const r = await k([...args, '-o', 'json']); ok(r, args.join(' ')); return JSON.parse(r.stdout); };

    await t.test('every generator creates the object kubectl describes', async () => {
      ok(await k(['create', 'namespace', 'gen']), 'namespace');
      const n = ['-n', 'gen'];
      ok(await k([...n, 'create', 'configmap', 'cm', '--from-literal=a=1', '--from-literal=b=two']), 'configmap');
      ok(await k([...n, 'create', 'secret', 'generic', 'gs', '--from-literal=password=s3cret', '--type=example.com/opaque']), 'secret generic');
      ok(await k([...n, 'create', 'secret', 'tls', 'ts', `--cert=${path.join(cp.dir, 'pki', 'apiserver.crt')}`, `--key=${path.join(cp.dir, 'pki', 'apiserver.key')}`]), 'secret tls');
      ok(await k([...n, 'create', 'secret', 'docker-registry', 'ds', '--docker-server=registry.example', '--docker-username=u', '--docker-password=p']), 'secret docker-registry');
      ok(await k([...n, 'create', 'deployment', 'web', '--image=busybox:1.36', '--replicas=3', '--port=8080']), 'deployment');
      ok(await k([...n, 'create', 'job', 'once', '--image=busybox:1.36', '--', 'date']), 'job');
      ok(await k([...n, 'create', 'cronjob', 'tick', '--image=busybox:1.36', '--schedule=*/5 * * * *', '--restart=OnFailure']), 'cronjob');
      ok(await k([...n, 'create', 'service', 'clusterip', 'cip', '--tcp=80:8080']), 'service clusterip');
      ok(await k([...n, 'create', 'service', 'clusterip', 'headless', '--clusterip=None']), 'service headless');
      ok(await k([...n, 'create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=31380']), 'service nodeport');
      ok(await k([...n, 'create', 'service', 'loadbalancer', 'lb', '--tcp=443:8443']), 'service loadbalancer');
      ok(await k([...n, 'create', 'service', 'externalname', 'ext', '--external-name=example.com']), 'service externalname');
      ok(await k([...n, 'create', 'serviceaccount', 'robot']), 'serviceaccount');
      const token = await k([...n, 'create', 'token', 'robot', '--duration=10m']);
      ok(token, 'token');
      assert.equal(JSON.parse(Buffer.from(token.stdout.split('.')[1], 'base64url').toString()).sub, 'system:serviceaccount:gen:robot');
      ok(await k([...n, 'create', 'role', 'reader', '--verb=get', '--verb=list', '--resource=pods', '--resource=deployments.apps', '--resource-name=web']), 'role');
      ok(await k([...n, 'create', 'rolebinding', 'reader', '--role=reader', '--user=bob', '--group=devs', '--serviceaccount=gen:robot']), 'rolebinding');
      ok(await k(['create', 'clusterrole', 'logs', '--verb=get', '--non-resource-url=/logs/*']), 'clusterrole');
      ok(await k(['create', 'clusterrole', 'monitoring', '--aggregation-rule=example.com/aggregate-to-monitoring=true']), 'clusterrole aggregated');
      ok(await k(['create', 'clusterrolebinding', 'logs', '--clusterrole=logs', '--user=bob']), 'clusterrolebinding');
      ok(await k([...n, 'create', 'quota', 'small', '--hard=pods=10,cpu=2,memory=1Gi', '--scopes=NotBestEffort']), 'quota');
      ok(await k([...n, 'create', 'poddisruptionbudget', 'web', '--selector=app=web', '--min-available=50%']), 'pdb');
      ok(await k([...n, 'create', 'ingress', 'web', '--class=nginx', '--rule=web.example.com/api*=cip:80,tls=web-cert', '--default-backend=cip:80']), 'ingress');

      const cm = await json([...n, 'get', 'configmap', 'cm']);
      assert.deepEqual(cm.data, { a: '1', b: 'two' });
      const gs = await json([...n, 'get', 'secret', 'gs']);
      assert.equal(gs.type, 'example.com/opaque');
      assert.equal(Buffer.from(gs.data.password, 'base64').toString(), 's3cret');
      const ts = await json([...n, 'get', 'secret', 'ts']);
      assert.equal(ts.type, 'kubernetes.io/tls');
      assert.equal(Buffer.from(ts.data['tls.crt'], 'base64').toString(), readFileSync(path.join(cp.dir, 'pki', 'apiserver.crt'), 'utf8'));
      const ds = await json([...n, 'get', 'secret', 'ds']);
      assert.equal(ds.type, 'kubernetes.io/dockerconfigjson');
      assert.equal(JSON.parse(Buffer.from(ds.data['.dockerconfigjson'], 'base64').toString()).auths['registry.example'].username, 'u');
      const web = await json([...n, 'get', 'deployment', 'web']);
      assert.equal(web.spec.replicas, 3);
      assert.deepEqual(web.spec.selector, { matchLabels: { app: 'web' } });
      assert.deepEqual(web.spec.template.spec.containers[0].ports, [{ containerPort: 8080, protocol: 'TCP' }]);
      const job = await json([...n, 'get', 'job', 'once']);
      assert.deepEqual(job.spec.template.spec.containers[0].command, ['date']);
      assert.equal(job.spec.template.spec.restartPolicy, 'Never');
      const cj = await json([...n, 'get', 'cronjob', 'tick']);
      assert.equal(cj.spec.schedule, '*/5 * * * *');
      assert.equal(cj.spec.jobTemplate.spec.template.spec.restartPolicy, 'OnFailure');
      const cip = await json([...n, 'get', 'service', 'cip']);
      assert.match(cip.spec.clusterIP, /^10\.121\./);
      assert.deepEqual(cip.spec.ports.map((p: any) => [p.port, p.targetPort, p.protocol]), [[80, 8080, 'TCP']]);
      assert.equal((await json([...n, 'get', 'service', 'headless'])).spec.clusterIP, 'None');
      assert.equal((await json([...n, 'get', 'service', 'np'])).spec.ports[0].nodePort, 31380);
      assert.equal((await json([...n, 'get', 'service', 'lb'])).spec.type, 'LoadBalancer');
      assert.equal((await json([...n, 'get', 'service', 'ext'])).spec.externalName, 'example.com');
      const role = await json([...n, 'get', 'role', 'reader']);
      assert.deepEqual(role.rules, [
        { apiGroups: [''], resources: ['pods'], resourceNames: ['web'], verbs: ['get', 'list'] },
        { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'], verbs: ['get', 'list'] },
      ]);
      const rb = await json([...n, 'get', 'rolebinding', 'reader']);
      assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' });
      assert.deepEqual(rb.subjects.map((s: any) => `${s.kind}:${s.namespace ?? ''}:${s.name}`), ['User::bob', 'Group::devs', 'ServiceAccount:gen:robot']);
      assert.deepEqual((await json(['get', 'clusterrole', 'logs'])).rules, [{ nonResourceURLs: ['/logs/*'], verbs: ['get'] }]);
      assert.deepEqual((await json(['get', 'clusterrole', 'monitoring'])).aggregationRule, { clusterRoleSelectors: [{ matchLabels: { 'example.com/aggregate-to-monitoring': 'true' } }] });
      assert.deepEqual((await json(['get', 'clusterrolebinding', 'logs'])).subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }]);
      const quota = await json([...n, 'get', 'quota', 'small']);
      assert.deepEqual(quota.spec, { hard: { cpu: '2', memory: '1Gi', pods: '10' }, scopes: ['NotBestEffort'] });
      const pdb = await json([...n, 'get', 'pdb', 'web']);
      assert.deepEqual(pdb.spec, { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } });
      const ing = await json([...n, 'get', 'ingress', 'web']);
      assert.equal(ing.spec.ingressClassName, 'nginx');
      assert.deepEqual(ing.spec.rules, [{ host: 'web.example.com', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'cip', port: { number: 80 } } } }] } }]);
      assert.deepEqual(ing.spec.tls, [{ hosts: ['web.example.com'], secretName: 'web-cert' }]);
      assert.deepEqual(ing.spec.defaultBackend, { service: { name: 'cip', port: { number: 80 } } });
    });

    await t.test('a generator with an invalid name gets a 422 naming the field', async () => {
      fails(await k(['-n', 'gen', 'create', 'configmap', 'Bad_Name', '--from-literal=a=1']),
        'error: failed to create configmap: ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
        'configmap with a bad name');
    });

    await t.test('wrong scalar types are 400s worded like Go\'s json decoder', async () => {
      const deploy = (spec: string, labels = 'app: typed') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: typed, namespace: gen, labels: {${labels}}}
spec:
${spec}
  selector: {matchLabels: {app: typed}}
  template:
    metadata: {labels: {app: typed}}
    spec: {containers: [{name: c, image: busybox:1.36, ports: [{containerPort: PORT}]}]}
`;
      const cases: [string, string, string][] = [
        ['replicas: "three"', deploy('  replicas: "three"').replace('PORT', '80'), 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32'],
        ['replicas: 1.5', deploy('  replicas: 1.5').replace('PORT', '80'), 'json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32'],
        ['containerPort: "80"', deploy('  replicas: 1').replace('PORT', '"80"'), 'json: cannot unmarshal string into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32'],
        ['paused: "yes"', deploy('  paused: "yes"').replace('PORT', '80'), 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool'],
      ];
      for (const [what, manifest, msg] of cases) {
        for (const verb of ['apply', 'create']) {
          fails(await k([verb, '-f', '-'], manifest), `Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: ${msg}`, `${verb} with ${what}`);
        }
      }
      const r = await k(['-n', 'gen', 'get', 'deployment', 'typed']);
      assert.equal(r.code, 1, 'nothing was stored');
      fails(await k(['-n', 'gen', 'patch', 'deployment', 'web', '--type=merge', '-p', '{"spec":{"replicas":"five"}}']),
        'Error from server (BadRequest): Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
        'merge patch with a string replica count');
      // kubectl decodes metadata itself (same wording, its own prefix); a patch reaches the server
      fails(await k(['apply', '-f', '-'], deploy('  replicas: 1', 'app: typed, tier: 3').replace('PORT', '80')),
        'error: unable to decode "STDIN": json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string', 'apply a label with a number value');
      fails(await k(['-n', 'gen', 'patch', 'deployment', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"tier":3}}}']),
        'Error from server (BadRequest): Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
        'merge patch with a number label value');
      fails(await k(['-n', 'gen', 'patch', 'service', 'cip', '--type=json', '-p', '[{"op":"replace","path":"/spec/ports/0/targetPort","value":true}]']),
        'Error from server (BadRequest): Service in version "v1" cannot be handled as a Service: json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32',
        'json patch with a boolean targetPort');
    });

    await t.test('immutable fields: apply, replace and patch get Kubernetes\' 422s', async () => {
      // Deployment selector (apps/v1): a new selector that still matches the template
      const web = (selector: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: frozen, namespace: gen}
spec:
  selector: {matchLabels: {${selector}}}
  template:
    metadata: {labels: {app: frozen, tier: fe}}
    spec: {containers: [{name: c, image: busybox:1.36}]}
`;
      ok(await k(['apply', '-f', '-'], web('app: frozen')), 'apply deployment');
      fails(await k(['apply', '-f', '-'], web('app: frozen, tier: fe')),
        'The Deployment "frozen" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"frozen","tier":"fe"}}: field is immutable', 'apply a new selector');
      fails(await k(['apply', '--server-side', '-f', '-'], web('app: frozen, tier: fe')),
        'The Deployment "frozen" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"frozen","tier":"fe"}}: field is immutable', 'server-side apply a new selector');

      // Pod spec: images may change, nothing else
      const pod = (image: string, command: string) => `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: gen}
spec: {containers: [{name: c, image: "${image}", command: [${command}]}]}
`;
      ok(await k(['apply', '-f', '-'], pod('busybox:1.36', 'sleep, "3600"')), 'create pod');
      ok(await k(['apply', '-f', '-'], pod('busybox:1.37', 'sleep, "3600"')), 'change the image');
      fails(await k(['replace', '-f', '-'], pod('busybox:1.37', 'sleep, "60"')),
        'The Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
        'replace a pod\'s command');

      // ConfigMap and Secret marked immutable; Secret type
      ok(await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fixed, namespace: gen}\nimmutable: true\ndata: {a: "1"}\n'), 'immutable configmap');
      fails(await k(['-n', 'gen', 'patch', 'configmap', 'fixed', '--type=merge', '-p', '{"data":{"a":"2"}}']),
        'The ConfigMap "fixed" is invalid: data: Forbidden: field is immutable when `immutable` is set', 'patch immutable configmap data');
      fails(await k(['-n', 'gen', 'patch', 'configmap', 'fixed', '--type=merge', '-p', '{"immutable":false}']),
        'The ConfigMap "fixed" is invalid: immutable: Forbidden: field is immutable when `immutable` is set', 'unset immutable');
      ok(await k(['-n', 'gen', 'label', 'configmap', 'fixed', 'still=mutable']), 'metadata of an immutable configmap changes');
      fails(await k(['-n', 'gen', 'patch', 'secret', 'gs', '--type=merge', '-p', '{"type":"example.com/other"}']),
        'The Secret "gs" is invalid: type: Invalid value: "example.com/other": field is immutable', 'change a secret\'s type');

      // Job selector; Node podCIDR once set
      fails(await k(['-n', 'gen', 'patch', 'job', 'once', '--type=merge', '-p', '{"spec":{"completionMode":"Indexed"}}']),
        'The Job "once" is invalid: spec.completionMode: Invalid value: "Indexed": field is immutable', 'change a job\'s completionMode');
      ok(await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec: {podCIDR: 10.250.1.0/24, podCIDRs: [10.250.1.0/24]}\n'), 'node with a podCIDR');
      fails(await k(['patch', 'node', 'n1', '--type=merge', '-p', '{"spec":{"podCIDR":"10.250.2.0/24","podCIDRs":["10.250.2.0/24"]}}']),
        'The Node "n1" is invalid: spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid', 'change a node\'s podCIDR');
      ok(await k(['patch', 'node', 'n1', '--type=merge', '-p', '{"spec":{"unschedulable":true}}']), 'other node fields change');

      // RoleBinding roleRef
      fails(await k(['-n', 'gen', 'patch', 'rolebinding', 'reader', '--type=merge', '-p', '{"roleRef":{"kind":"ClusterRole","name":"logs"}}']),
        'The RoleBinding "reader" is invalid: roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"logs"}: cannot change roleRef', 'change a roleRef');
    });

    await t.test('kubectl explain reads the served OpenAPI v3 schemas', async () => {
      const r = await k(['explain', 'pod.spec.containers.ports']);
      ok(r, 'explain');
      assert.match(r.stdout, /^KIND:\s+Pod\nVERSION:\s+v1\n\nFIELD: ports <\[\]ContainerPort>/);
      assert.match(r.stdout, /containerPort\t<integer> -required-/);
      const d = await k(['explain', 'deployments.spec.selector', '--api-version=apps/v1']);
      ok(d, 'explain deployment');
      assert.match(d.stdout, /FIELD: selector <LabelSelector>/);
      assert.match(d.stdout, /matchLabels\t<map\[string\]string>/);
    });
  } finally {
    await cp.stop();
  }
});
