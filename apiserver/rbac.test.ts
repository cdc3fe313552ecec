import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RbacIndex, forbidden, ruleAllows } from './rbac';
import { DEFAULT_CLUSTER_ROLES, DEFAULT_CLUSTER_ROLE_BINDINGS } from './rbac-defaults';
import { requestAttributes } from './request-attributes';
import { impersonate } from './impersonation';

const bob = { name: 'bob', groups: ['dev', 'system:authenticated'] };
const binding = (kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, roleKind: string, role: string, subjects: any[], namespace?: string) => ({
  kind, metadata: { name, ...(namespace ? { namespace } : {}) }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role }, subjects,
});
const defaults = { clusterRoles: DEFAULT_CLUSTER_ROLES, clusterRoleBindings: DEFAULT_CLUSTER_ROLE_BINDINGS };

test('rule matching: verbs, groups, resources, subresources, names, non-resource URLs', () => {
  const r = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] };
  assert.ok(ruleAllows(r, { verb: 'get', group: '', resource: 'pods' }));
  assert.ok(ruleAllows(r, { verb: 'get', group: '', resource: 'pods', subresource: 'log' }));
  assert.ok(!ruleAllows(r, { verb: 'get', group: '', resource: 'pods', subresource: 'exec' }));
  assert.ok(!ruleAllows(r, { verb: 'delete', group: '', resource: 'pods' }));
  assert.ok(!ruleAllows(r, { verb: 'get', group: 'apps', resource: 'pods' }));
  assert.ok(ruleAllows({ verbs: ['*'], apiGroups: ['*'], resources: ['*/scale'] }, { verb: 'update', group: 'apps', resource: 'deployments', subresource: 'scale' }));
  const named = { verbs: ['update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['mine'] };
  assert.ok(ruleAllows(named, { verb: 'update', group: '', resource: 'configmaps', name: 'mine' }));
  assert.ok(!ruleAllows(named, { verb: 'update', group: '', resource: 'configmaps', name: 'theirs' }));
  assert.ok(!ruleAllows({ ...named, verbs: ['list'] }, { verb: 'list', group: '', resource: 'configmaps' }), 'resourceNames never match an unnamed request');
  const urls = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
  assert.ok(ruleAllows(urls, { nonResource: true, verb: 'get', path: '/healthz' }));
  assert.ok(ruleAllows(urls, { nonResource: true, verb: 'get', path: '/apis/apps/v1' }));
  assert.ok(!ruleAllows(urls, { nonResource: true, verb: 'get', path: '/metrics' }));
  assert.ok(!ruleAllows(urls, { verb: 'get', group: '', resource: 'healthz' }));
});

test('bindings: users, groups, ServiceAccounts; RoleBindings only in their namespace', () => {
  const idx = new RbacIndex({
    ...defaults,
    roles: [{ metadata: { name: 'cm', namespace: 'team' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }] }],
    roleBindings: [
      binding('RoleBinding', 'bob-view', 'ClusterRole', 'view', [{ kind: 'User', name: 'bob' }], 'default'),
      binding('RoleBinding', 'robot', 'Role', 'cm', [{ kind: 'ServiceAccount', name: 'robot' }], 'team'),
      binding('RoleBinding', 'devs', 'Role', 'cm', [{ kind: 'Group', name: 'dev' }], 'team'),
    ],
  });
  assert.equal(idx.authorize(bob, { verb: 'list', group: '', resource: 'pods', namespace: 'default' }).allowed, true);
  assert.equal(idx.authorize(bob, { verb: 'list', group: '', resource: 'pods', namespace: 'other' }).allowed, false);
  assert.equal(idx.authorize(bob, { verb: 'get', group: '', resource: 'secrets', namespace: 'default' }).allowed, false);
  assert.equal(idx.authorize(bob, { verb: 'get', group: '', resource: 'configmaps', namespace: 'team' }).allowed, true, 'through the dev group');
  const robot = { name: 'system:serviceaccount:team:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] };
  assert.equal(idx.authorize(robot, { verb: 'get', group: '', resource: 'configmaps', namespace: 'team' }).allowed, true);
  assert.equal(idx.authorize({ ...robot, name: 'system:serviceaccount:other:robot' }, { verb: 'get', group: '', resource: 'configmaps', namespace: 'team' }).allowed, false);
  // everyone authenticated: discovery and self reviews
  assert.equal(idx.authorize(robot, { nonResource: true, verb: 'get', path: '/apis' }).allowed, true);
  assert.equal(idx.authorize(robot, { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }).allowed, true);
  assert.equal(idx.authorize({ name: 'x', groups: ['system:masters'] }, { verb: 'delete', group: '', resource: 'nodes' }).allowed, true);
});

test('aggregation: admin ⊇ edit ⊇ view, and new aggregate-to-view roles extend all three', () => {
  const extra = { metadata: { name: 'crd-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }, rules: [{ verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] }] };
  const idx = new RbacIndex({
    clusterRoles: [...DEFAULT_CLUSTER_ROLES, extra], clusterRoleBindings: [], roles: [],
    roleBindings: ['view', 'edit', 'admin'].map((r) => binding('RoleBinding', r, 'ClusterRole', r, [{ kind: 'User', name: r }], 'ns')),
  });
  const can = (user: string, verb: string, group: string, resource: string) => idx.authorize({ name: user, groups: [] }, { verb, group, resource, namespace: 'ns' }).allowed;
  for (const u of ['view', 'edit', 'admin']) assert.ok(can(u, 'get', 'example.com', 'widgets'), u);
  assert.ok(!can('view', 'get', '', 'secrets'));
  assert.ok(can('edit', 'create', '', 'secrets'));
  assert.ok(!can('edit', 'create', 'rbac.authorization.k8s.io', 'roles'));
  assert.ok(can('admin', 'create', 'rbac.authorization.k8s.io', 'roles'));
});

test('component identities get what their processes need', () => {
  const idx = new RbacIndex({ ...defaults, roles: [], roleBindings: [] });
  const sched = { name: 'system:kube-scheduler', groups: ['system:authenticated'] };
  assert.ok(idx.authorize(sched, { verb: 'create', group: '', resource: 'pods', subresource: 'binding', namespace: 'x' }).allowed);
  assert.ok(idx.authorize(sched, { verb: 'patch', group: '', resource: 'pods', name: 'p', namespace: 'x' }).allowed, 'the last-attempt annotation');
  assert.ok(!idx.authorize(sched, { verb: 'update', group: '', resource: 'pods', name: 'p', namespace: 'x' }).allowed);
  assert.ok(!idx.authorize(sched, { verb: 'get', group: '', resource: 'secrets', namespace: 'x' }).allowed);
  assert.ok(idx.authorize(sched, { verb: 'patch', group: '', resource: 'pods', namespace: 'x' }).allowed, 'the last-attempt annotation');
  const kubelet = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
  assert.ok(idx.authorize(kubelet, { verb: 'patch', group: '', resource: 'nodes', subresource: 'status', name: 'n1' }).allowed);
  assert.ok(idx.authorize(kubelet, { verb: 'update', group: '', resource: 'pods', subresource: 'status', namespace: 'x' }).allowed);
  const proxy = { name: 'system:kube-proxy', groups: ['system:authenticated'] };
  assert.ok(idx.authorize(proxy, { verb: 'watch', group: '', resource: 'endpoints' }).allowed);
  assert.ok(!idx.authorize(proxy, { verb: 'delete', group: '', resource: 'pods', namespace: 'x' }).allowed);
});

test('403 messages are worded as Kubernetes words them', () => {
  assert.equal(forbidden('bob', { verb: 'list', group: '', resource: 'pods', namespace: 'default' }).message,
    'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"');
  assert.equal(forbidden('bob', { verb: 'get', group: 'apps', resource: 'deployments', name: 'web', namespace: 'ns' }).message,
    'deployments.apps "web" is forbidden: User "bob" cannot get resource "deployments" in API group "apps" in the namespace "ns"');
  assert.equal(forbidden('bob', { verb: 'list', group: '', resource: 'nodes' }).message,
    'nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope');
  assert.equal(forbidden('bob', { verb: 'create', group: '', resource: 'pods', subresource: 'exec', name: 'p', namespace: 'd' }).message,
    'pods "p" is forbidden: User "bob" cannot create resource "pods/exec" in API group "" in the namespace "d"');
  assert.equal(forbidden('bob', { nonResource: true, verb: 'get', path: '/metrics' }).message, 'forbidden: User "bob" cannot get path "/metrics"');
  assert.equal(forbidden('bob', { verb: 'list', group: '', resource: 'pods', namespace: 'default' }).code, 403);
});

test('request attributes follow Kubernetes RequestInfo', () => {
  assert.deepEqual(requestAttributes('GET', '/api/v1/namespaces/default/pods?watch=true', { watch: 'true' }), { verb: 'watch', group: '', version: 'v1', resource: 'pods', namespace: 'default' });
  assert.deepEqual(requestAttributes('GET', '/api/v1/namespaces/default', {}), { verb: 'get', group: '', version: 'v1', resource: 'namespaces', name: 'default', namespace: 'default' });
  assert.deepEqual(requestAttributes('DELETE', '/apis/apps/v1/namespaces/x/deployments', {}), { verb: 'deletecollection', group: 'apps', version: 'v1', resource: 'deployments', namespace: 'x' });
  assert.deepEqual(requestAttributes('GET', '/api/v1/namespaces/x/pods/p/exec', {}), { verb: 'create', group: '', version: 'v1', resource: 'pods', subresource: 'exec', name: 'p', namespace: 'x' });
  assert.deepEqual(requestAttributes('GET', '/api/v1/pods?fieldSelector=metadata.name%3Dp', { fieldSelector: 'metadata.name=p' }), { verb: 'list', group: '', version: 'v1', resource: 'pods', name: 'p' });
  assert.deepEqual(requestAttributes('GET', '/apis/apps/v1', {}), { nonResource: true, verb: 'get', path: '/apis/apps/v1' });
});

test('impersonation needs the impersonate verb on users and groups', async () => {
  const idx = new RbacIndex({
    ...defaults, roles: [], roleBindings: [],
    clusterRoles: [...DEFAULT_CLUSTER_ROLES, { metadata: { name: 'imp' }, rules: [{ verbs: ['impersonate'], apiGroups: [''], resources: ['users'], resourceNames: ['alice'] }] }],
    clusterRoleBindings: [...DEFAULT_CLUSTER_ROLE_BINDINGS, binding('ClusterRoleBinding', 'imp', 'ClusterRole', 'imp', [{ kind: 'User', name: 'bob' }])],
  });
  const authz = (u: any, a: any) => idx.authorize(u, a);
  assert.deepEqual(await impersonate({}, bob, authz), bob);
  assert.deepEqual(await impersonate({ 'impersonate-user': 'alice' }, bob, authz), { name: 'alice', groups: ['system:authenticated'] });
  const denied = await impersonate({ 'impersonate-user': 'carol' }, bob, authz);
  assert.ok(!('name' in denied) || (denied as any).code === 403);
  assert.equal((denied as any).message, 'users "carol" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope');
  const withGroup = await impersonate({ 'impersonate-user': 'alice', 'impersonate-group': 'system:masters' }, bob, authz);
  assert.equal((withGroup as any).code, 403);
});
