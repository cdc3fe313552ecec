import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTypes, goType } from './fieldvalidation';

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
