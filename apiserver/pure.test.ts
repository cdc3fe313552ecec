import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLabelSelector, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors';
import { mergePatch, strategicMerge } from './patch';
import { humanDuration } from '../lib/duration';
import { toTable } from './tables';
import { cidrContains, parseCidr, pickFree, pickServiceIP } from './allocators';
import { validateService } from './groups/core/service';
import { parseApiPath } from './rest';
import { validatePod, validateWorkload, validateNode } from './validation';
import { validateConfigMap, validateJob, validateSecret, validateDaemonSet } from './validation-kinds';
import { checkTypes, goType } from './fieldvalidation';
import { decodeProtobufObject, encodeProtobufObject } from './protobuf';
import { componentSchemas, openapiName } from './openapi';

test('label selectors: =, ==, !=, in, notin, exists, !key', () => {
  const l = { app: 'web', tier: 'fe' };
  const m = (s: string) => matchesLabels(parseLabelSelector(s), l);
  assert.ok(m('app=web') && m('app==web') && m('app!=db') && m('tier in (fe,be)') && m('tier notin (be)') && m('app') && m('!missing') && m('app=web,tier'));
  assert.ok(!m('app=db') && !m('!app') && !m('tier in (be)') && !m('missing'));
  assert.throws(() => parseLabelSelector('a=b c'), /unable to parse/);
  assert.equal(formatLabelSelector({ matchLabels: { b: '2', a: '1' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['y', 'x'] }] }), 'a=1,b=2,c in (x,y)');
  assert.throws(() => parseFieldSelector('bogus=1', new Set(['metadata.name'])), /field label not supported/);
});

test('merge and strategic merge patches', () => {
  assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 } }), { a: 1, b: { d: 3, e: 4 } });
  const orig = { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }] }, { name: 'b', image: 'y' }], finalizers: ['f1', 'f2'] };
  const out = strategicMerge(orig, {
    containers: [{ name: 'a', env: [{ name: 'F', value: '2' }] }, { name: 'b', $patch: 'delete' }],
    '$setElementOrder/containers': [{ name: 'a' }],
    '$deleteFromPrimitiveList/finalizers': ['f1'],
  });
  assert.deepEqual(out, { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }, { name: 'F', value: '2' }] }], finalizers: ['f2'] });
  assert.deepEqual(strategicMerge({ ports: [{ containerPort: 80, name: 'a' }] }, { ports: [{ containerPort: 80, name: 'b' }, { containerPort: 81 }] }), { ports: [{ containerPort: 80, name: 'b' }, { containerPort: 81 }] });
  assert.deepEqual(strategicMerge({ spec: { a: 1, b: 2 } }, { spec: { $patch: 'replace', c: 3 } }), { spec: { c: 3 } });
  assert.deepEqual(strategicMerge({ s: { type: 'RollingUpdate', rollingUpdate: { x: 1 } } }, { s: { $retainKeys: ['type'], type: 'Recreate' } }), { s: { type: 'Recreate' } });
  assert.deepEqual(orig.finalizers, ['f1', 'f2'], 'input untouched');
});

test('tables: pod status column and human durations', () => {
  const now = new Date('2024-01-01T01:00:00Z');
  const pod = {
    metadata: { name: 'p', creationTimestamp: '2024-01-01T00:55:30Z' },
    spec: { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'n1' },
    status: { phase: 'Running', podIP: '10.244.1.5', containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: { running: {} } }, { name: 'b', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
  };
  const t = toTable('pods', [pod], { now, resourceVersion: '7' });
  assert.deepEqual(t.rows[0].cells, ['p', '1/2', 'CrashLoopBackOff', '2', '4m30s', '10.244.1.5', 'n1', '<none>', '<none>']);
  assert.equal(t.metadata.resourceVersion, '7');
  assert.deepEqual([humanDuration(5_000), humanDuration(150_000), humanDuration(3 * 3600_000 + 60_000), humanDuration(3 * 86400_000)], ['5s', '2m30s', '3h1m', '3d']);
  const ev = toTable('events', [{ metadata: { name: 'e' }, type: 'Normal', reason: 'Scheduled', involvedObject: { kind: 'Pod', name: 'p' }, message: 'ok', lastTimestamp: '2024-01-01T00:59:00Z' }], { now });
  assert.deepEqual(ev.rows[0].cells.slice(0, 4), ['60s', 'Normal', 'Scheduled', 'pod/p']);
});

test('allocators and service validation', () => {
  const c = parseCidr('10.96.0.0/12');
  assert.ok(cidrContains(c, '10.111.255.254') && !cidrContains(c, '10.112.0.1') && !cidrContains(c, '10.96.0.0'));
  assert.equal(pickFree(1, 3, new Set([1, 2])), 3);
  assert.equal(pickFree(1, 2, new Set([1, 2])), undefined);
  assert.notEqual(pickServiceIP(parseCidr('10.0.0.0/30'), []), '10.0.0.1');
  const errs = validateService({ spec: { type: 'NodePort', ports: [{ port: 70000, nodePort: 1 }] } }, [30000, 32767]);
  assert.deepEqual(errs.map((e) => e.field), ['spec.ports[0].port', 'spec.ports[0].nodePort']);
});

test('API paths', () => {
  assert.deepEqual(parseApiPath('/apis/apps/v1/namespaces/d/deployments/web/scale'), { group: 'apps', version: 'v1', namespace: 'd', resource: 'deployments', name: 'web', subresource: 'scale' });
  assert.deepEqual(parseApiPath('/api/v1/namespaces/foo/status'), { group: '', version: 'v1', resource: 'namespaces', name: 'foo', subresource: 'status' });
  assert.deepEqual(parseApiPath('/api/v1/watch/namespaces/d/pods'), { group: '', version: 'v1', watchPath: true, namespace: 'd', resource: 'pods', name: undefined, subresource: undefined });
});

test('decoder type check: scalar types, ranges, quantities, times; Go\'s json wording', () => {
  const msg = (o: unknown, group: string, kind: string): string => {
    try { checkTypes(o, group, 'v1', kind); return 'ok'; } catch (e: any) { return `${e.code} ${e.message}`; }
  };
  const deploy = (spec: unknown) => msg({ spec }, 'apps', 'Deployment');
  const pre = 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal';
  assert.equal(deploy({ replicas: 'three' }), `400 ${pre} string into Go struct field DeploymentSpec.spec.replicas of type int32`);
  assert.equal(deploy({ replicas: 1.5 }), `400 ${pre} number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32`);
  assert.equal(deploy({ replicas: 2 ** 31 }), `400 ${pre} number 2147483648 into Go struct field DeploymentSpec.spec.replicas of type int32`);
  assert.equal(deploy({ paused: 'true' }), `400 ${pre} string into Go struct field DeploymentSpec.spec.paused of type bool`);
  assert.equal(deploy({ template: { spec: { containers: [{ name: 'c', ports: [{ containerPort: '80' }] }] } } }),
    `400 ${pre} string into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32`);
  assert.equal(msg({ metadata: { labels: { a: 1 } } }, 'apps', 'Deployment'), `400 ${pre} number into Go struct field ObjectMeta.metadata.labels of type string`);
  assert.equal(deploy({ strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } }, replicas: null }), 'ok', 'IntOrString takes both; null is a zero value');
  assert.equal(deploy({ strategy: { rollingUpdate: { maxSurge: true } } }), `400 ${pre} bool into Go struct field RollingUpdateDeployment.spec.strategy.rollingUpdate.maxSurge of type int32`);
  assert.match(msg({ spec: { containers: [{ name: 'c', resources: { limits: { cpu: 'lots' } } }] } }, '', 'Pod'), /^400 Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression/);
  assert.equal(msg({ spec: { containers: [{ name: 'c', resources: { limits: { cpu: 1, memory: '1Gi' } } }] } }, '', 'Pod'), 'ok');
  assert.match(msg({ metadata: { creationTimestamp: 'yesterday' } }, '', 'Pod'), /^400 .*parsing time "yesterday"/);
  assert.equal(msg({ metadata: { creationTimestamp: '2025-01-02T03:04:05Z' }, status: { startTime: '2025-01-02T03:04:05.123456789Z' } }, '', 'Pod'), 'ok');
  assert.equal(msg({ subsets: 'x' }, '', 'Endpoints'), '400 Endpoints in version "v1" cannot be handled as a Endpoints: json: cannot unmarshal string into Go struct field Endpoints.subsets of type []v1.EndpointSubset');
  assert.equal(goType('{}[]s'), 'map[string][]string');
});

test('immutable fields on update, as Kubernetes\' ValidateXUpdate', () => {
  const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
  const spec = { containers: [{ name: 'c', image: 'a:1', command: ['sleep'] }], tolerations: [{ key: 'k', operator: 'Exists' }], activeDeadlineSeconds: 100 };
  const pod = (s: object) => ({ spec: { ...spec, ...s } });
  assert.deepEqual(validatePod(pod({ containers: [{ name: 'c', image: 'a:2', command: ['sleep'] }], activeDeadlineSeconds: 50, tolerations: [...spec.tolerations, { key: 'x', operator: 'Exists' }] }), pod({})), []);
  assert.deepEqual(fields(validatePod(pod({ containers: [{ name: 'c', image: 'a:1', command: ['true'] }] }), pod({}))).map((f) => f.slice(0, 61)), ['spec: Forbidden: pod updates may not change fields other than']);
  assert.deepEqual(fields(validatePod(pod({ activeDeadlineSeconds: 200 }), pod({}))), ['spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value']);
  assert.deepEqual(fields(validatePod(pod({ tolerations: [] }), pod({}))), ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds']);

  const d = (matchLabels: object) => ({ spec: { selector: { matchLabels }, template: { metadata: { labels: { app: 'a', tier: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } });
  assert.deepEqual(fields(validateWorkload(d({ app: 'a', tier: 'x' }), 'Deployment', d({ app: 'a' }))), ['spec.selector: Invalid value: {"matchLabels":{"app":"a","tier":"x"}}: field is immutable']);
  assert.deepEqual(validateWorkload(d({ app: 'a' }), 'ReplicaSet', d({ app: 'a' })), []);
  assert.deepEqual(fields(validateDaemonSet(d({ tier: 'x' }), d({ app: 'a' }))), ['spec.selector: Invalid value: {"matchLabels":{"tier":"x"}}: field is immutable']);

  const cm = { immutable: true, data: { a: '1' } };
  assert.deepEqual(fields(validateConfigMap({ ...cm, data: { a: '2' } }, cm)), ['data: Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(fields(validateConfigMap({ data: { a: '1' } }, cm)), ['immutable: Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(validateConfigMap({ data: { a: '2' } }, { data: { a: '1' } }), []);
  assert.deepEqual(fields(validateSecret({ type: 'b', data: {} }, { type: 'a', data: {} })), ['type: Invalid value: "b": field is immutable']);

  const job = (s: object) => ({ spec: { selector: { matchLabels: { j: '1' } }, template: { metadata: { labels: { j: '1' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } }, completions: 1, parallelism: 1, completionMode: 'NonIndexed', ...s } });
  assert.deepEqual(fields(validateJob(job({ completions: 3 }), job({}))), ['spec.completions: Invalid value: 3: field is immutable']);
  assert.deepEqual(validateJob(job({ parallelism: 4 }), job({})), [], 'parallelism changes');

  const node = (podCIDR?: string) => ({ spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} });
  assert.deepEqual(validateNode(node('10.0.1.0/24'), node()), [], 'unset → set');
  assert.deepEqual(fields(validateNode(node('10.0.2.0/24'), node('10.0.1.0/24'))), ['spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid']);
});

test('protobuf bodies of the kinds kubectl create sends: RBAC, quota, PDB, ingress', () => {
  const round = (apiVersion: string, kind: string, msg: Record<string, unknown>) => decodeProtobufObject(encodeProtobufObject(apiVersion, kind, msg));
  assert.deepEqual(round('rbac.authorization.k8s.io/v1', 'RoleBinding', { metadata: { name: 'rb' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' } }),
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rb' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' } });
  assert.deepEqual(round('v1', 'ResourceQuota', { metadata: { name: 'q' }, spec: { hard: { cpu: { string: '2' } }, scopes: ['BestEffort'] } }).spec, { hard: { cpu: '2' }, scopes: ['BestEffort'] });
  assert.deepEqual(round('policy/v1', 'PodDisruptionBudget', { spec: { minAvailable: { type: 1, strVal: '50%' }, selector: { matchLabels: { a: 'b' } } } }).spec, { minAvailable: '50%', selector: { matchLabels: { a: 'b' } } });
  const ing = round('networking.k8s.io/v1', 'Ingress', { spec: { rules: [{ host: 'h', ingressRuleValue: { http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } } }] } });
  assert.deepEqual(ing.spec.rules, [{ host: 'h', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }], 'ingressRuleValue is inlined');
});

test('OpenAPI v3 component schemas for kubectl explain', () => {
  const s: any = componentSchemas([{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
  const dep = s['io.k8s.api.apps.v1.Deployment'];
  assert.deepEqual(dep['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  assert.deepEqual(dep.properties.spec.allOf, [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec' }]);
  assert.deepEqual(s['io.k8s.api.apps.v1.DeploymentSpec'].required, ['selector', 'template']);
  assert.equal(s['io.k8s.api.apps.v1.DeploymentSpec'].properties.replicas.type, 'integer');
  assert.equal(s['io.k8s.api.core.v1.Container'].properties.ports.items.allOf[0].$ref, '#/components/schemas/io.k8s.api.core.v1.ContainerPort');
  assert.ok(s['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties.labels.additionalProperties.type === 'string');
  // every reference resolves
  const refs = JSON.stringify(s).match(/#\/components\/schemas\/[\w.-]+/g) ?? [];
  for (const r of refs) assert.ok(s[r.slice('#/components/schemas/'.length)], r);
  assert.equal(openapiName('meta/v1.LabelSelector'), 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector');
});
