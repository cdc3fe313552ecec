import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexResources, matchResource, qualifiedResource, splitApiVersion, typeName } from './discovery';

const all = indexResources([
  {
    group: '',
    version: 'v1',
    resources: [
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', shortNames: ['po'], categories: ['all'] },
      { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod' },
      { name: 'services', singularName: 'service', namespaced: true, kind: 'Service', shortNames: ['svc'] },
      { name: 'endpoints', singularName: 'endpoints', namespaced: true, kind: 'Endpoints', shortNames: ['ep'] },
      { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', shortNames: ['ns'] },
      { name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', shortNames: ['no'] },
      { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', shortNames: ['ev'] },
    ],
  },
  {
    group: 'apps',
    version: 'v1',
    resources: [
      { name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', shortNames: ['deploy'] },
      { name: 'deployments/scale', singularName: '', namespaced: true, kind: 'Scale' },
      { name: 'replicasets', singularName: 'replicaset', namespaced: true, kind: 'ReplicaSet', shortNames: ['rs'] },
    ],
  },
  { group: 'events.k8s.io', version: 'v1', resources: [{ name: 'events', singularName: 'event', namespaced: true, kind: 'Event', shortNames: ['ev'] }] },
  { group: 'coordination.k8s.io', version: 'v1', resources: [{ name: 'leases', namespaced: true, kind: 'Lease' }] },
]);

const resolve = (s: string) => {
  const r = matchResource(all, s);
  return r ? `${r.group}/${r.version}/${r.resource}` : undefined;
};

test('plural, singular, short names and kinds, case-insensitive', () => {
  for (const s of ['pods', 'pod', 'po', 'Pod', 'PODS']) assert.equal(resolve(s), '/v1/pods', s);
  for (const s of ['deployments', 'deployment', 'deploy', 'Deployment']) assert.equal(resolve(s), 'apps/v1/deployments', s);
  assert.equal(resolve('svc'), '/v1/services');
  assert.equal(resolve('rs'), 'apps/v1/replicasets');
  assert.equal(resolve('ns'), '/v1/namespaces');
  assert.equal(resolve('ep'), '/v1/endpoints');
  assert.equal(resolve('no'), '/v1/nodes');
  assert.equal(resolve('lease'), 'coordination.k8s.io/v1/leases', 'singular defaults to the lower-cased kind');
});

test('subresources are not types; unknown names resolve to nothing', () => {
  assert.equal(resolve('pods/log'), undefined);
  assert.equal(resolve('scale'), undefined);
  assert.equal(resolve('widgets'), undefined);
});

test('the core group wins a tie; a group suffix picks another one', () => {
  assert.equal(resolve('events'), '/v1/events');
  assert.equal(resolve('events.events.k8s.io'), 'events.k8s.io/v1/events');
  assert.equal(resolve('ev.events.k8s.io'), 'events.k8s.io/v1/events');
  assert.equal(resolve('deployments.apps'), 'apps/v1/deployments');
  assert.equal(resolve('deploy.v1.apps'), 'apps/v1/deployments');
  assert.equal(resolve('deployments.extensions'), undefined);
});

test('type names for output and messages', () => {
  const deploy = matchResource(all, 'deploy')!;
  const pod = matchResource(all, 'po')!;
  assert.equal(typeName(deploy), 'deployment.apps');
  assert.equal(typeName(pod), 'pod');
  assert.equal(qualifiedResource(deploy), 'deployments.apps');
  assert.deepEqual(splitApiVersion('apps/v1'), { group: 'apps', version: 'v1' });
  assert.deepEqual(splitApiVersion('v1'), { group: '', version: 'v1' });
});
