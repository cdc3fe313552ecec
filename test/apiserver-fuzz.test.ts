/**
 * Issue 4, acceptance 3: ≥10,000 malformed or hostile requests against a real apiserver
 * process (HTTPS on loopback, real etcd, keep-alive, bounded concurrency). Every answer must
 * be a 4xx metav1.Status whose code matches the HTTP status (no 5xx, no success), the process
 * must stay alive and ready, and nothing may be stored (every resource listed before and after).
 * Requests come from a seeded generator (COXSWAIN_FUZZ_SEED, COXSWAIN_FUZZ_COUNT), so a failure
 * names the request and can be replayed.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { test } from 'node:test';
import { seededRng } from '../store/raft/rng';
import { startControlPlane, waitFor } from './lib/cluster';

/** `expect`: sent without credentials, judged by it; `code`: the exact 4xx an admin must get. */
interface Req { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer; why: string; expect?: (status: number, text: string) => boolean; code?: number }

const prng = seededRng;

const COLLECTIONS: { path: string; kind: string; apiVersion: string; plural: string; namespaced: boolean }[] = [
  { path: '/api/v1/namespaces/fuzz/pods', kind: 'Pod', apiVersion: 'v1', plural: 'pods', namespaced: true },
  { path: '/api/v1/namespaces/fuzz/services', kind: 'Service', apiVersion: 'v1', plural: 'services', namespaced: true },
  { path: '/api/v1/namespaces/fuzz/configmaps', kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps', namespaced: true },
  { path: '/api/v1/namespaces/fuzz/secrets', kind: 'Secret', apiVersion: 'v1', plural: 'secrets', namespaced: true },
  { path: '/api/v1/namespaces/fuzz/endpoints', kind: 'Endpoints', apiVersion: 'v1', plural: 'endpoints', namespaced: true },
  { path: '/api/v1/namespaces/fuzz/events', kind: 'Event', apiVersion: 'v1', plural: 'events', namespaced: true },
  { path: '/api/v1/namespaces/fuzz/serviceaccounts', kind: 'ServiceAccount', apiVersion: 'v1', plural: 'serviceaccounts', namespaced: true },
  { path: '/api/v1/namespaces', kind: 'Namespace', apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  { path: '/api/v1/nodes', kind: 'Node', apiVersion: 'v1', plural: 'nodes', namespaced: false },
  { path: '/apis/apps/v1/namespaces/fuzz/deployments', kind: 'Deployment', apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  { path: '/apis/apps/v1/namespaces/fuzz/replicasets', kind: 'ReplicaSet', apiVersion: 'apps/v1', plural: 'replicasets', namespaced: true },
  { path: '/apis/apps/v1/namespaces/fuzz/statefulsets', kind: 'StatefulSet', apiVersion: 'apps/v1', plural: 'statefulsets', namespaced: true },
  { path: '/apis/apps/v1/namespaces/fuzz/daemonsets', kind: 'DaemonSet', apiVersion: 'apps/v1', plural: 'daemonsets', namespaced: true },
  { path: '/apis/batch/v1/namespaces/fuzz/jobs', kind: 'Job', apiVersion: 'batch/v1', plural: 'jobs', namespaced: true },
  { path: '/apis/batch/v1/namespaces/fuzz/cronjobs', kind: 'CronJob', apiVersion: 'batch/v1', plural: 'cronjobs', namespaced: true },
  { path: '/apis/networking.k8s.io/v1/namespaces/fuzz/ingresses', kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', plural: 'ingresses', namespaced: true },
  { path: '/apis/rbac.authorization.k8s.io/v1/namespaces/fuzz/roles', kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true },
  { path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', kind: 'ClusterRoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'clusterrolebindings', namespaced: false },
  { path: '/apis/coordination.k8s.io/v1/namespaces/fuzz/leases', kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', plural: 'leases', namespaced: true },
  { path: '/apis/discovery.k8s.io/v1/namespaces/fuzz/endpointslices', kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
  { path: '/apis/autoscaling/v2/namespaces/fuzz/horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v2', plural: 'horizontalpodautoscalers', namespaced: true },
  { path: '/apis/policy/v1/namespaces/fuzz/poddisruptionbudgets', kind: 'PodDisruptionBudget', apiVersion: 'policy/v1', plural: 'poddisruptionbudgets', namespaced: true },
];

const BAD_NAMES = ['', 'UPPER', 'under_score', '-lead', 'trail-', 'a'.repeat(300), 'has space', 'dot..dot', 'ñandú', '💥', '../etc', 'a/b', '%2e%2e', '\u0000nul', 'tab\t', '.', '..', 'x'.repeat(64) + '.' + 'y'.repeat(200)];
const JUNK = ['\u0000', '\uFFFF', '\uD800', '💥', 'ñ', '\u202E', '\r\n', '"', '\\', '{', '}', '<script>', "' OR 1=1 --", '${jndi:ldap://x}', '../../', '%00', '\u0007'];
const BAD_JSON = ['{', '}', '[', '{"a":', '{"metadata":{"name":"x"}', 'nul', 'tru', '{"a":1,}', "{'a':1}", '{"a":"\\x"}', '\u0000', '\xff\xfe', '{"a":1}{"b":2}', '{"a":NaN}', '{"a":Infinity}', '1e99999', '--', '/* */', '{"a":"\uD800"'];
const NOT_OBJECTS = ['null', '[]', '[1,2]', '"string"', '42', 'true', '-0'];
const BAD_YAML = ['a: [', 'a: {b', '- a\n b: c', 'a: &x\n  b: *y', '---\na: 1\n---\nb: 2', '\t- bad', 'a: b: c', '? ? ?', '*unknown', '!!binary ===', 'a: !!int nope', '"unterminated', '%YAML 9.9\n---\na: 1'];
const BAD_CT = ['text/html', 'application/xml', 'multipart/form-data; boundary=x', 'image/png', 'application/x-www-form-urlencoded', 'application/vnd.kubernetes.protobuf', 'application/vnd.kubernetes.protobuf;stream=watch', 'application/cbor', 'application/json-seq', 'foo/bar', ';;;', 'application/octet-stream'];
const BAD_LABEL_SELECTORS = ['a in (b', 'a notin b)', '!', '=', 'a=b=c', 'a in ()', '(a)', 'a!==b', 'A B', 'a,', ',', 'ü=ä', `${'x'.repeat(400)}=y`, 'a=' + 'b'.repeat(100), 'a>1x', 'key in (a', '!!a'];
const BAD_FIELD_SELECTORS = ['spec.bogus=1', 'metadata.labels=x', 'a', '=', "metadata.name", 'status.phase in (a)', '!metadata.name', 'metadata.name=a,spec.nope=b', 'x=y=z'];

/** Percent-encodes every UTF-8 byte (lone surrogates become U+FFFD, as on the wire). */
const enc = (s: string) => Buffer.from(s).toString('hex').replace(/../g, '%$&');

function deep(n: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n);
}

/** A request generator: each call returns one hostile request. */
function generators(r: () => number): ((i: number) => Req)[] {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const junk = () => Array.from({ length: 1 + Math.floor(r() * 6) }, () => pick(JUNK)).join('');
  const coll = () => pick(COLLECTIONS);
  const json = { 'Content-Type': 'application/json' };
  // RBAC objects take any path segment as a name ("system:node", even "has space"), so only these are bad for them
  const badName = (c: { plural: string }) => (/roles|rolebindings/.test(c.plural) ? pick(['', '.', '..', 'a/b', '50%', 'x'.repeat(300)]) : pick(BAD_NAMES));
  const badNameObj = (c = coll()) => ({ apiVersion: c.apiVersion, kind: c.kind, metadata: { name: badName(c) } });
  return [
    // malformed JSON
    () => { const c = coll(); return { method: pick(['POST', 'POST', 'PUT']), path: c.path + (r() < 0.3 ? '/x' : ''), headers: json, body: pick(BAD_JSON) + (r() < 0.5 ? junk() : ''), why: 'bad JSON' }; },
    // not an object
    () => { const c = coll(); return { method: 'POST', path: c.path, headers: json, body: pick(NOT_OBJECTS), why: 'JSON that is not an object' }; },
    // malformed YAML
    () => { const c = coll(); return { method: 'POST', path: c.path, headers: { 'Content-Type': 'application/yaml' }, body: pick(BAD_YAML), why: 'bad YAML' }; },
    // wrong kind / apiVersion
    () => {
      const c = coll(), other = pick(COLLECTIONS.filter((x) => x.kind !== c.kind));
      const body = r() < 0.5 ? { apiVersion: c.apiVersion, kind: other.kind, metadata: { name: 'wrong-kind' } } : { apiVersion: pick(['v2', 'apps/v0', 'nope/v1', '', 'v1beta1', other.apiVersion === c.apiVersion ? 'x/v1' : other.apiVersion]), kind: c.kind, metadata: { name: 'wrong-version' } };
      return { method: 'POST', path: c.path, headers: json, body: JSON.stringify(body), why: 'wrong kind/apiVersion' };
    },
    // bad names
    () => { const c = coll(); return { method: 'POST', path: c.path, headers: json, body: JSON.stringify(badNameObj(c)), why: 'bad name' }; },
    // type confusion in metadata
    () => {
      const c = coll();
      const metadata = pick<any>([[], 'x', 5, { name: 5 }, { name: ['a'] }, { name: 'ok-name', labels: 'x' }, { name: 'ok-name', labels: { 'bad key!': 'v' } }, { name: 'ok-name', labels: { a: 'v'.repeat(64) } },
        { name: 'ok-name', annotations: [] }, { name: 'ok-name', finalizers: 'x' }, { name: 'ok-name', ownerReferences: {} }, { name: 'ok-name', namespace: 'other-ns-mismatch' },
        { name: 'ok-name', labels: { a: { b: 1 } } }, { generateName: /roles|bindings/.test(c.plural) ? 'a/' : pick(['Bad_', '-', '.x']) }]);
      if (metadata && metadata.namespace && !c.namespaced) return { method: 'POST', path: c.path, headers: json, body: JSON.stringify({ metadata: { name: 'Bad' } }), why: 'bad name (cluster)' };
      return { method: 'POST', path: c.path, headers: json, body: JSON.stringify({ apiVersion: c.apiVersion, kind: c.kind, metadata }), why: 'bad metadata' };
    },
    // type confusion in spec/data: every known list/map/object field given a wrong shape
    () => {
      const c = coll();
      const wrong = pick<any>(['x', 5, true, [], {}, [1], { a: [] }, null]);
      const fields: Record<string, any> = {
        Pod: { spec: pick([{ containers: wrong === null ? 'x' : wrong }, { containers: [{ name: 'c', image: 'i', ports: 'x' }] }, { containers: [{ name: 'c', image: 'i', env: {} }] }, { containers: [] }, { containers: [{ name: 'BAD', image: 'i' }] }, { containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: 'lots' } } }] }, 'spec'] ) },
        Service: { spec: pick([{ ports: 'x' }, { ports: [{ port: 'x' }] }, { ports: [{ port: 70000 }] }, { type: 'Weird', ports: [{ port: 80 }] }, { selector: [] }, { clusterIP: 'not-an-ip', ports: [{ port: 80 }] }, { ports: [{ port: 80, protocol: 'ICMP' }] }]) },
        ConfigMap: pick([{ data: 'x' }, { data: { a: 1 } }, { data: { 'bad key/': 'v' } }, { binaryData: { a: '!!!not base64' } }, { data: [] }, { data: { a: { b: 'c' } } }]),
        Secret: pick([{ data: 'x' }, { data: { a: '!!!not base64!!!' } }, { type: 5 }, { stringData: [] }, { data: { 'a/b': 'eA==' } }]),
        Endpoints: { subsets: pick([[{ addresses: 'x' }], [{ addresses: [{ ip: 5 }] }], [{ addresses: [{ ip: 'not-an-ip' }] }], [{ ports: 'x' }], [{ ports: [{ port: -1 }] }], 'x', [{ addresses: [{}] }], [{ notReadyAddresses: {} }]]) },
        Event: pick([{ involvedObject: 'x' }, { type: 'Catastrophic', involvedObject: {} }, {}]),
        ServiceAccount: pick([{ secrets: 'x' }, { imagePullSecrets: {} }, { automountServiceAccountToken: 'yes-please', secrets: 5 }]),
        Namespace: { spec: pick([{ finalizers: 'x' }, 'x', { finalizers: {} }]) },
        Node: { spec: pick([{ podCIDR: 'x.x', taints: 'x' }, { taints: [{ effect: 'Nope' }] }, 'x']) },
        Deployment: { spec: pick([{ replicas: -1 }, { replicas: 'x', selector: {} }, { selector: 'x' }, { template: 'x' }, { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { c: 'd' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } }, { strategy: { type: 'Sideways' } }, {}]) },
        ReplicaSet: { spec: pick([{ replicas: -5 }, { selector: [] }, {}]) },
        StatefulSet: { spec: pick([{ serviceName: 5, selector: 'x' }, {}]) },
        DaemonSet: { spec: pick([{ selector: 'x' }, {}]) },
        Job: { spec: pick([{ template: 'x' }, { parallelism: -1 }, {}]) },
        CronJob: { spec: pick([{ schedule: 'not a schedule', jobTemplate: 'x' }, { schedule: 5 }, {}]) },
        Ingress: { spec: pick([{ rules: 'x' }, { rules: [{ http: { paths: 'x' } }] }, { rules: [{ host: 'BAD_HOST!', http: { paths: [] } }] }]) },
        Role: pick([{ rules: 'x' }, { rules: [{ verbs: 'get' }] }, { rules: [5] }]),
        ClusterRoleBinding: pick([{ roleRef: 'x' }, { roleRef: { kind: 'Nope', name: 'x', apiGroup: 'rbac.authorization.k8s.io' } }, { subjects: 'x', roleRef: {} }, {}]),
        Lease: { spec: pick(['x', [], { leaseDurationSeconds: -1 }]) },
        EndpointSlice: pick([{ addressType: 'Nope', endpoints: [] }, { endpoints: 'x' }, {}]),
        HorizontalPodAutoscaler: { spec: pick([{ maxReplicas: 0 }, { scaleTargetRef: 'x' }, {}]) },
        PodDisruptionBudget: { spec: pick([{ minAvailable: 'x%', selector: 'x' }, { minAvailable: 1, maxUnavailable: 1 }]) },
      };
      const name = r() < 0.5 ? badName(c) || 'Bad' : `ok-${Math.floor(r() * 1e6)}`;
      const body = { apiVersion: c.apiVersion, kind: c.kind, metadata: { name }, ...(fields[c.kind] ?? { spec: 'x' }) };
      return { method: 'POST', path: c.path, headers: json, body: JSON.stringify(body), why: `bad ${c.kind} fields` };
    },
    // scalar type confusion in otherwise valid objects: Go's decoder rejects each (400)
    () => {
      const bad = pick<[string, string, any]>([
        ['apps/v1', 'deployments', { spec: { replicas: pick(['three', 1.5, true, 2 ** 31]), selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }],
        ['apps/v1', 'deployments', { spec: { paused: pick(['yes', 1]), selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }],
        ['v1', 'pods', { spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: pick(['80', 80.5, false]) }] }] } }],
        ['v1', 'pods', { spec: { containers: [{ name: 'c', image: 'i', env: [{ name: 'A', value: pick([1, true]) }] }] } }],
        ['v1', 'pods', { spec: { terminationGracePeriodSeconds: '30', containers: [{ name: 'c', image: 'i' }] } }],
        ['v1', 'services', { spec: { ports: [{ port: 80, targetPort: pick([true, 1.5]) }] } }],
        ['v1', 'configmaps', { metadata: { labels: { a: pick([1, true]) } } }],
        ['batch/v1', 'jobs', { spec: { backoffLimit: 'six', template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } } }],
      ]);
      const [gv, plural, body] = bad;
      const path = `${gv === 'v1' ? '/api/v1' : `/apis/${gv}`}/namespaces/fuzz/${plural}`;
      return { method: 'POST', path, headers: json, body: JSON.stringify({ ...body, metadata: { name: `typed-${Math.floor(r() * 1e6)}`, ...(body.metadata ?? {}) } }), why: `scalar type in ${plural}`, code: 400 };
    },
    // updates of immutable fields of existing objects (422)
    () => pick<Req>([
      { method: 'PATCH', path: '/apis/apps/v1/namespaces/fuzz/deployments/web', headers: { 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify({ spec: { selector: { matchLabels: { app: 'web', x: 'y' } }, template: { metadata: { labels: { app: 'web', x: 'y' } } } } }), why: 'deployment selector change', code: 422 },
      { method: 'PATCH', path: '/api/v1/namespaces/fuzz/services/svc', headers: { 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify({ spec: { clusterIP: pick(['10.96.0.250', '10.96.0.251']) } }), why: 'service clusterIP change', code: 422 },
    ]),
    // deep nesting
    () => { const c = coll(); const n = pick([200, 1000, 5000, 20000, 100000]); return { method: 'POST', path: c.path, headers: json, body: r() < 0.5 ? deep(n, pick(['array', 'object'])) : `{"apiVersion":"${c.apiVersion}","kind":"${c.kind}","metadata":{"name":${JSON.stringify(badName(c) || (/roles|bindings/.test(c.plural) ? 'a/b' : 'Deep'))}},"spec":${deep(n, 'object')}}`, why: `deep nesting ${n}` }; },
    // invalid selectors
    () => {
      const c = coll();
      const q = r() < 0.6 ? `labelSelector=${enc(pick(BAD_LABEL_SELECTORS))}` : `fieldSelector=${enc(pick(BAD_FIELD_SELECTORS))}`;
      return { method: pick(['GET', 'GET', 'DELETE']), path: `${c.path}?${q}${r() < 0.2 ? '&watch=true' : ''}`, why: 'invalid selector' };
    },
    // bad patches against existing objects: each one something Kubernetes refuses
    () => {
      const J = 'application/json-patch+json', M = 'application/merge-patch+json', S = 'application/strategic-merge-patch+json', A = 'application/apply-patch+yaml';
      const common: [string, string][] = [
        [J, '{}'], [J, '[{"op":"nope","path":"/a"}]'], [J, '[{"op":"add"}]'], [J, '[{"op":"remove","path":"/nonexistent/deep"}]'], [J, '[{"op":"test","path":"/metadata/name","value":"other"}]'],
        [J, '[{"op":"add","path":"/metadata/labels","value":"x"}]'], [J, '[{"op":"move","from":"/x","path":"/y"}]'], [J, '[{"op":"add","path":"/metadata/labels/bad key!","value":"v"}]'], [J, '['], [J, 'null'],
        [J, '[{"op":"replace","path":"/metadata/name","value":"renamed"}]'], [J, '[{"op":"add","path":"/metadata/annotations","value":[]}]'],
        [M, '[]'], [M, '"x"'], [M, '5'], [M, '{'], [M, '{"metadata":{"name":"other-name"}}'], [M, '{"metadata":{"labels":"x"}}'], [M, '{"kind":"Pod"}'], [M, '{"apiVersion":"v2"}'],
        [M, '{"metadata":{"labels":{"a":"' + 'v'.repeat(100) + '"}}}'], [M, '{"metadata":{"resourceVersion":"1","labels":{"x":"y"}}}'], [M, '{"metadata":{"finalizers":"x"}}'],
        [S, '[]'], [S, '{'], [S, '"x"'], [S, '{"metadata":{"labels":"x"}}'], [S, '{"metadata":{"name":"other-name"}}'], [S, '{"metadata":{"$deleteFromPrimitiveList/finalizers":5}}'],
        [A, 'a: ['], [A, '{"apiVersion":"v1"}'], [A, '- list'], [A, '"x"'],
        [pick(BAD_CT), '{}'],
      ];
      const targets: { path: string; own: [string, string][]; apply: string }[] = [
        { path: '/api/v1/namespaces/fuzz/configmaps/target', apply: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n',
          own: [[M, '{"data":5}'], [M, '{"data":{"a":{"b":1}}}'], [M, '{"data":{"bad key!":"v"}}'], [S, '{"data":[]}'], [J, '[{"op":"add","path":"/data","value":5}]'], [A, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: target\n']] },
        { path: '/apis/apps/v1/namespaces/fuzz/deployments/web', apply: 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: other\n',
          own: [[M, '{"spec":{"replicas":-3}}'], [M, '{"spec":{"template":{"spec":{"containers":[]}}}}'], [M, '{"spec":{"selector":{"matchLabels":{"other":"x"}}}}'], [S, '{"spec":{"template":{"spec":{"containers":"x"}}}}'],
            [S, '{"spec":{"strategy":{"type":"Sideways"}}}'], [J, '[{"op":"replace","path":"/spec/template/spec/containers/0/name","value":"BAD_NAME"}]'], [M, '{"spec":{"template":{"metadata":{"labels":{"app":"other"}}}}}']] },
        { path: '/api/v1/namespaces/fuzz/services/svc', apply: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: other\n',
          own: [[M, '{"spec":{"ports":"x"}}'], [M, '{"spec":{"ports":[{"port":70000}]}}'], [M, '{"spec":{"type":"Weird"}}'], [M, '{"spec":{"sessionAffinity":"Sometimes"}}'], [J, '[{"op":"replace","path":"/spec/ports/0/protocol","value":"ICMP"}]']] },
        { path: '/api/v1/namespaces/fuzz', apply: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n',
          own: [[M, '{"spec":{"finalizers":"x"}}'], [M, '{"metadata":{"labels":{"k":"bad value!"}}}']] },
      ];
      const tgt = pick(targets);
      const [ct, body] = r() < 0.15 ? [A, tgt.apply] : pick([...common, ...tgt.own, ...tgt.own]);
      const fm = ct === A ? (r() < 0.15 ? '' : `?fieldManager=${pick(['fuzz', 'fuzz', enc('x'.repeat(200)), enc('\u0001ctl')])}`) : r() < 0.05 ? '?force=true' : '';
      return { method: 'PATCH', path: tgt.path + fm, headers: { 'Content-Type': ct }, body, why: `bad ${ct.split('/')[1]} patch` };
    },
    // bad content types on create
    () => { const c = coll(); return { method: pick(['POST', 'PUT']), path: c.path + (r() < 0.5 ? '' : '/x'), headers: { 'Content-Type': pick(BAD_CT) }, body: r() < 0.5 ? '{}' : Buffer.from(Array.from({ length: 64 }, () => Math.floor(r() * 256))), why: 'bad content type' }; },
    // unicode junk in paths, names and queries
    () => {
      const c = coll();
      const seg = enc(junk());
      return pick<Req>([
        { method: 'GET', path: `${c.path}/${seg}`, why: 'junk name' },
        { method: 'DELETE', path: `${c.path}/${seg}`, why: 'junk delete' },
        { method: 'POST', path: `/api/v1/namespaces/${seg}/configmaps`, headers: json, body: '{"metadata":{"name":"cm"}}', why: 'junk namespace' },
        { method: 'GET', path: `/apis/${seg}/v1/things`, why: 'junk group' },
        { method: 'GET', path: `${c.path}?limit=${seg}`, why: 'junk limit' },
        { method: 'GET', path: `${c.path}?continue=${seg}`, why: 'junk continue' },
        { method: 'GET', path: `${c.path}?resourceVersion=${seg}`, why: 'junk resourceVersion' },
        // (RBAC objects accept almost any path segment, so theirs carry a '/')
        { method: 'POST', path: c.path, headers: json, body: JSON.stringify({ apiVersion: c.apiVersion, kind: c.kind, metadata: { name: junk() + (/roles|bindings/.test(c.plural) ? '/' : '') } }), why: 'junk object name' },
        { method: 'POST', path: `${c.path}?dryRun=${seg}`, headers: json, body: '{}', why: 'junk dryRun' },
        { method: 'POST', path: `${c.path}?fieldValidation=${seg}`, headers: json, body: '{}', why: 'junk fieldValidation' },
        { method: 'POST', path: `${c.path}?fieldManager=${enc('\u0001' + junk())}`, headers: json, body: '{}', why: 'junk fieldManager' },
      ]);
    },
    // path traversal and odd paths
    () => ({
      method: pick(['GET', 'POST', 'DELETE', 'PUT']),
      path: pick(['/api/v1/namespaces/../../../etc/passwd', '/api/v1/namespaces/%2e%2e/pods', '/api/v1/namespaces/fuzz/pods/..%2f..%2fsecrets', '/apis/../api/v1/pods/x/y/z/w',
        '/api/v1/namespaces/fuzz/pods/a/b/c', '/api/v1/namespaces/fuzz/configmaps/%00', '/api/v1/namespaces/fuzz/configmaps/%', '/api/v1/namespaces/fuzz/configmaps/%zz', '/api/v2/pods', '/apis/apps/v9/deployments',
        '/api/v1/namespaces/fuzz/nosuchresource', '/api/v1/namespaces/fuzz/pods/x/nosuchsub', '/api/v1/nodes/x/nosuchsub', '/api//v1//pods', '/api/v1/namespaces//pods', '/' + 'a/'.repeat(500), '/api/v1/namespaces/fuzz/pods/' + 'x'.repeat(5000),
        '/api/v1/namespaces/fuzz/configmaps/target/status', '/api/v1/namespaces/fuzz/secrets/x/scale', '/apis/rbac.authorization.k8s.io/v1/namespaces/fuzz/clusterroles', '/api/v1/namespaces/fuzz/nodes', '/../../etc/shadow', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/x']),
      headers: json, body: '{}', why: 'path traversal / odd path',
    }),
    // wrong methods
    () => {
      const c = coll();
      return pick<Req>([
        { method: 'PUT', path: c.path, headers: json, body: '{}', why: 'PUT on a collection' },
        { method: 'PATCH', path: c.path, headers: { 'Content-Type': 'application/merge-patch+json' }, body: '{}', why: 'PATCH on a collection' },
        { method: 'POST', path: `${c.path}/some-name`, headers: json, body: '{}', why: 'POST on an object' },
        { method: 'DELETE', path: `${c.path}/does-not-exist`, why: 'DELETE missing object' },
        { method: 'GET', path: `${c.path}/does-not-exist`, why: 'GET missing object' },
        { method: 'PUT', path: `${c.path}/does-not-exist`, headers: json, body: JSON.stringify({ apiVersion: c.apiVersion, kind: c.kind, metadata: { name: 'other-name' } }), why: 'PUT name mismatch' },
        { method: 'POST', path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', headers: json, body: pick(['{}', '{"spec":{}}', '{"kind":"Pod"}', '[]', '{"spec":{"resourceAttributes":"x"}}']), why: 'bad access review' },
        { method: 'POST', path: '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', headers: json, body: pick(['{}', '{"spec":{"namespace":5}}', '"x"']), why: 'bad rules review' },
        { method: 'POST', path: '/api/v1/namespaces/fuzz/serviceaccounts/default/token', headers: json, body: pick(['{"spec":{"expirationSeconds":1}}', '{"spec":{"expirationSeconds":"x"}}', '{"spec":{"audiences":"x"}}', '{"spec":{"boundObjectRef":{"kind":"Deployment","name":"x"}}}', '{"spec":{"boundObjectRef":{"kind":"Pod","name":"missing"}}}', '[]', '{"kind":"Pod"}']), why: 'bad TokenRequest' },
        { method: 'POST', path: '/api/v1/namespaces/fuzz/serviceaccounts/ghost/token', headers: json, body: '{}', why: 'TokenRequest for a missing ServiceAccount' },
        { method: 'GET', path: '/api/v1/namespaces/fuzz/serviceaccounts/default/token', why: 'GET token' },
        { method: 'POST', path: '/api/v1/namespaces/fuzz/pods/nopod/binding', headers: json, body: pick(['{}', '{"target":"x"}', '{"target":{"kind":"Node"}}']), why: 'bad binding' },
        { method: 'PUT', path: '/apis/apps/v1/namespaces/fuzz/deployments/web/scale', headers: json, body: pick(['{}', '{"spec":{"replicas":-1}}', '{"spec":{"replicas":"x"}}', '[]']), why: 'bad scale' },
      ]);
    },
    // bad query parameters on reads and deletes
    () => {
      const c = coll();
      return pick<Req>([
        { method: 'GET', path: `${c.path}?limit=${pick(['-1', 'abc', '1.5', '1e3x'])}`, why: 'bad limit' },
        { method: 'GET', path: `${c.path}?continue=${pick(['abc', 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6LTF9', '%%%'])}`, why: 'bad continue' },
        { method: 'GET', path: `${c.path}?watch=true&timeoutSeconds=${pick(['-1', 'abc', '1.5', '-100', '9999999999999'])}`, why: 'bad watch timeoutSeconds' },
        { method: 'GET', path: `${c.path}?watch=true&resourceVersion=${pick(['abc', '-5', '1.5', '0x10'])}`, why: 'bad watch resourceVersion' },
        { method: 'GET', path: `${c.path}?resourceVersion=${pick(['abc', '-5', '1.5'])}`, why: 'bad list resourceVersion' },
        { method: 'DELETE', path: `${c.path}/target?gracePeriodSeconds=${pick(['abc', '1.5'])}`, why: 'bad gracePeriodSeconds' },
        { method: 'DELETE', path: `${c.path}/target?propagationPolicy=${pick(['Sideways', 'x'])}`, why: 'bad propagationPolicy' },
        { method: 'DELETE', path: `${c.path}/target`, headers: json, body: pick(['[]', '"x"', '{"gracePeriodSeconds":"x"}', '{"propagationPolicy":"Nope"}', '{']), why: 'bad DeleteOptions' },
        { method: 'DELETE', path: `${c.path}?dryRun=Nope`, why: 'bad deletecollection dryRun' },
        { method: 'POST', path: `${c.path}?dryRun=${pick(['Nope', 'true', 'all'])}`, headers: json, body: JSON.stringify(badNameObj(c)), why: 'bad dryRun' },
      ]);
    },
    // no or bad credentials
    () => ({ method: pick(['GET', 'POST', 'DELETE']), path: coll().path, headers: { ...json, ...(r() < 0.5 ? { Authorization: pick(['Bearer', 'Bearer x', 'Basic YWRtaW46YWRtaW4=', 'Bearer a.b.c', 'Bearer abcdef.0123456789abcdef', `Bearer ${junk()}`.replace(/[^\x20-\x7e]/g, '?')]) } : {}) }, body: '{}', why: 'no/bad credentials', expect: (s) => s === 401 }),
  ];
}

test('≥10,000 hostile requests: 4xx Status each, no 5xx, nothing stored, apiserver alive', { timeout: 600_000 }, async (t) => {
  const cp = await startControlPlane({ store: 'etcd' });
  t.after(() => cp.stop());
  const admin = cp.client;
  await admin.request('POST', '/api/v1/namespaces', { body: { metadata: { name: 'fuzz' } } });
  await admin.request('POST', '/api/v1/namespaces/fuzz/configmaps', { body: { metadata: { name: 'target', labels: { a: 'b' } }, data: { k: 'v' } } });
  await admin.request('POST', '/api/v1/namespaces/fuzz/services', { body: { metadata: { name: 'svc' }, spec: { ports: [{ port: 80 }], selector: { app: 'web' } } } });
  await admin.request('POST', '/apis/apps/v1/namespaces/fuzz/deployments', {
    body: { metadata: { name: 'web' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } } },
  });
  // the default ServiceAccount arrives asynchronously: wait, so the snapshot is stable
  await waitFor('default ServiceAccount in fuzz', () => admin.request('GET', '/api/v1/namespaces/fuzz/serviceaccounts/default').then(() => true));

  // every served, listable resource, as name@resourceVersion
  const snapshot = async (): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    const groups = ['/api/v1', ...((await admin.request<any>('GET', '/apis')).groups as any[]).flatMap((g) => g.versions.map((v: any) => `/apis/${v.groupVersion}`))];
    for (const gv of groups) {
      const rl = await admin.request<any>('GET', gv);
      for (const res of rl.resources) {
        if (res.name.includes('/') || !res.verbs.includes('list')) continue;
        // Leases are heartbeats the apiserver (its kubernetes Endpoints lease) and components renew on their own
        if (gv === '/apis/coordination.k8s.io/v1' && res.name === 'leases') continue;
        const list = await admin.request<any>('GET', `${gv}/${res.name}`);
        for (const it of list.items) out.set(`${gv}/${res.name}/${it.metadata.namespace ?? ''}/${it.metadata.name}`, it.metadata.resourceVersion);
      }
    }
    return out;
  };
  const before = await snapshot();

  const seed = Number(process.env.COXSWAIN_FUZZ_SEED ?? 20261122);
  const count = Number(process.env.COXSWAIN_FUZZ_COUNT ?? 10_500);
  const rnd = prng(seed);
  const gens = generators(rnd);
  const u = new URL(cp.server);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca: cp.pki.ca.cert, cert: cp.pki.admin.cert, key: cp.pki.admin.key });
  const anon = new https.Agent({ keepAlive: true, maxSockets: 2, ca: cp.pki.ca.cert });
  t.after(() => { agent.destroy(); anon.destroy(); });

  const send = (q: Req): Promise<{ status: number; text: string }> => new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(q.headers ?? {}) };
    if (q.body !== undefined) headers['Content-Length'] = Buffer.byteLength(q.body);
    const req = https.request({ host: u.hostname, port: u.port, method: q.method, path: q.path, headers, agent: q.expect ? anon : agent }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size < 1 << 20) chunks.push(c);
        // a watch that was (wrongly) admitted streams on: read its first line and stop
        if (res.statusCode === 200 && Buffer.concat(chunks).includes(10)) res.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() });
      res.on('end', done);
      res.on('close', done);
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`timeout: ${q.method} ${q.path.slice(0, 200)}`)));
    req.on('error', reject);
    if (q.body !== undefined) req.write(q.body);
    req.end();
  });

  const failures: string[] = [];
  const byWhy = new Map<string, number>();
  const check = (q: Req, status: number, text: string) => {
    byWhy.set(q.why, (byWhy.get(q.why) ?? 0) + 1);
    const desc = () => `${q.why}: ${q.method} ${q.path.slice(0, 160)} ${q.headers?.['Content-Type'] ?? ''} body=${JSON.stringify(String(q.body ?? '').slice(0, 160))} → ${status} ${text.slice(0, 300)}`;
    if (q.expect) { if (!q.expect(status, text)) failures.push(desc()); return; }
    if (status < 400 || status >= 500 || (q.code && status !== q.code)) { failures.push(desc()); return; }
    let s: any;
    try { s = JSON.parse(text); } catch { failures.push(`not a Status: ${desc()}`); return; }
    if (s.kind !== 'Status' || s.apiVersion !== 'v1' || s.status !== 'Failure' || s.code !== status || typeof s.message !== 'string') failures.push(`bad Status: ${desc()}`);
  };

  // a few huge bodies (each 3 MiB+) and the rest from the generators
  const queue: Req[] = [];
  for (let i = 0; i < 12; i++) {
    const c = COLLECTIONS[i % COLLECTIONS.length];
    queue.push({ method: i % 3 === 2 ? 'PUT' : 'POST', path: c.path + (i % 3 === 2 ? '/big' : ''), headers: { 'Content-Type': i % 2 ? 'application/yaml' : 'application/json' }, body: Buffer.alloc(3 * 1024 * 1024 + 1 + i * 1000, i % 2 ? 'a' : '{'), why: 'huge body' });
  }
  for (let i = 0; i < count; i++) queue.push(gens[Math.floor(rnd() * gens.length)](i));

  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const q = queue[next++];
      try {
        const { status, text } = await send(q);
        if (q.why === 'huge body') { if (status !== 413) failures.push(`huge body → ${status} ${text.slice(0, 200)}`); continue; }
        check(q, status, text);
      } catch (e) {
        // a refused huge upload may be cut off mid-body; anything else is a failure
        if (q.why !== 'huge body') failures.push(`${q.why}: ${q.method} ${q.path.slice(0, 160)} → ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));

  assert.equal(cp.apiserver.child.exitCode, null, 'the apiserver exited');
  assert.equal(cp.apiserver.child.signalCode, null, 'the apiserver was killed');
  assert.equal(await admin.request<string>('GET', '/readyz'), 'ok');
  const after = await snapshot();
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
  assert.ok(queue.length >= 10_000 || process.env.COXSWAIN_FUZZ_COUNT !== undefined);
  assert.deepEqual({ failures: failures.slice(0, 60), changed }, { failures: [], changed: [] }, `${failures.length} of ${queue.length} requests misbehaved (seed ${seed}); ${changed.length} objects changed`);
  // a resourceVersion from the future: 504 Too large resource version (a Status for a list, an ERROR event in a watch)
  const rv = Number((await admin.request<any>('GET', '/api/v1/namespaces/fuzz/configmaps')).metadata.resourceVersion) + 1000;
  const list = await send({ method: 'GET', path: `/api/v1/namespaces/fuzz/configmaps?resourceVersion=${rv}`, why: 'future list' });
  assert.equal(list.status, 504, list.text);
  assert.match(JSON.parse(list.text).message, /^Too large resource version: \d+, current: \d+$/);
  const watch = await send({ method: 'GET', path: `/api/v1/namespaces/fuzz/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=30`, why: 'future watch' });
  const ev = JSON.parse(watch.text.split('\n')[0]);
  assert.equal(ev.type, 'ERROR');
  assert.equal(ev.object.code, 504);
  assert.equal(ev.object.reason, 'Timeout');
  assert.match(ev.object.message, /^Too large resource version/);
  t.diagnostic(`${queue.length} requests, seed ${seed}: ${[...byWhy.entries()].map(([k, v]) => `${k}=${v}`).join(', ')}`);
});
