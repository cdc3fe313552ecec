import { test } from 'node:test';
import assert from 'node:assert/strict';
import { componentSchemas, openapiName } from './openapi';

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
