import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtobufObject, encodeProtobufObject } from './protobuf';

test('protobuf bodies of the kinds kubectl create sends: RBAC, quota, PDB, ingress', () => {
  const round = (apiVersion: string, kind: string, msg: Record<string, unknown>) => decodeProtobufObject(encodeProtobufObject(apiVersion, kind, msg));
  assert.deepEqual(round('rbac.authorization.k8s.io/v1', 'RoleBinding', { metadata: { name: 'rb' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' } }),
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rb' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' } });
  assert.deepEqual(round('v1', 'ResourceQuota', { metadata: { name: 'q' }, spec: { hard: { cpu: { string: '2' } }, scopes: ['BestEffort'] } }).spec, { hard: { cpu: '2' }, scopes: ['BestEffort'] });
  assert.deepEqual(round('policy/v1', 'PodDisruptionBudget', { spec: { minAvailable: { type: 1, strVal: '50%' }, selector: { matchLabels: { a: 'b' } } } }).spec, { minAvailable: '50%', selector: { matchLabels: { a: 'b' } } });
  const ing = round('networking.k8s.io/v1', 'Ingress', { spec: { rules: [{ host: 'h', ingressRuleValue: { http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } } }] } });
  assert.deepEqual((ing.spec as { rules: unknown }).rules, [{ host: 'h', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }], 'ingressRuleValue is inlined');
});
