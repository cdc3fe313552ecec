/**
 * Issue 4, acceptance 4: authentication, RBAC, TokenRequest and audit against a real apiserver
 * process over HTTPS (real etcd), with the real kubectl 1.32 for `auth can-i` and `--token`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ApiClient, ApiError } from '../lib/client';
import { startControlPlane, waitFor } from './lib/cluster';

interface Result { code: number; stdout: string; stderr: string }
function kubectl(args: string[], cacheDir: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile('kubectl', ['--cache-dir', cacheDir, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0, stdout, stderr });
    });
  });
}

/** One HTTPS request with only the CA (no client certificate): status and parsed body. */
function rawRequest(server: string, ca: string, method: string, p: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<{ status: number; body: any }> {
  const u = new URL(server);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: u.hostname, port: u.port, method, path: p, ca, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: any = text;
        try { parsed = JSON.parse(text); } catch { /* text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function expectStatus(p: Promise<unknown>, code: number, message?: RegExp | string): Promise<ApiError> {
  try { await p; } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.code, code, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test('authentication, RBAC, ServiceAccount tokens, audit', { timeout: 180_000 }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cox-sec-'));
  const tokenFile = path.join(tmp, 'tokens.csv');
  writeFileSync(tokenFile, [
    '# token,user,uid,"groups"',
    'bobtoken0123456789,bob,1001,"viewers,dev"',
    'carol-token-xyz,carol,1002',
  ].join('\n'));
  const cp = await startControlPlane({ store: 'etcd', apiserverArgs: ['--token-auth-file', tokenFile] });
  const cache = path.join(tmp, 'kcache');
  const admin = cp.client;
  const asToken = (token: string) => new ApiClient({ server: cp.server, ca: cp.pki.ca.cert, token });
  const bob = asToken('bobtoken0123456789');
  t.after(async () => { bob.close(); await cp.stop(); rmSync(tmp, { recursive: true, force: true }); });

  await t.test('no credentials and bad tokens are 401 Unauthorized Status', async () => {
    const r = await rawRequest(cp.server, cp.pki.ca.cert, 'GET', '/api/v1/namespaces/default/pods');
    assert.equal(r.status, 401);
    assert.equal(r.body.kind, 'Status');
    assert.equal(r.body.reason, 'Unauthorized');
    const bad = await rawRequest(cp.server, cp.pki.ca.cert, 'GET', '/api/v1/pods', { Authorization: 'Bearer nope' });
    assert.equal(bad.status, 401);
    const forged = await rawRequest(cp.server, cp.pki.ca.cert, 'GET', '/api/v1/pods', { Authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.AAAA' });
    assert.equal(forged.status, 401);
    // unauthenticated health endpoints stay open
    assert.equal((await rawRequest(cp.server, cp.pki.ca.cert, 'GET', '/readyz')).status, 200);
  });

  await t.test('plain HTTP to the secure port is refused', async () => {
    const u = new URL(cp.server);
    const outcome = await new Promise<string>((resolve) => {
      const req = http.request({ host: u.hostname, port: u.port, path: '/api/v1/pods', agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(`status ${res.statusCode} ${body}`));
      });
      req.on('error', (e) => resolve(`error ${(e as Error).message}`));
      req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
      req.end();
    });
    assert.doesNotMatch(outcome, /"kind"/, outcome);
    assert.match(outcome, /^error|^status 400/, outcome);
  });

  await t.test('a user bound to view lists pods but may not read or create Secrets', async () => {
    await waitFor('default policy', () => admin.request('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/view').then(() => true));
    await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
      body: { metadata: { name: 'bob-view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'bob', apiGroup: 'rbac.authorization.k8s.io' }] },
    });
    await admin.request('POST', '/api/v1/namespaces/default/secrets', { body: { metadata: { name: 'top' }, stringData: { password: 'hunter2-very-secret' } } });
    const pods = await bob.request<any>('GET', '/api/v1/namespaces/default/pods');
    assert.equal(pods.kind, 'PodList');
    const e = await expectStatus(bob.request('GET', '/api/v1/namespaces/default/secrets'), 403,
      'secrets is forbidden: User "bob" cannot list resource "secrets" in API group "" in the namespace "default"');
    assert.equal(e.reason, 'Forbidden');
    await expectStatus(bob.request('GET', '/api/v1/namespaces/default/secrets/top'), 403,
      'secrets "top" is forbidden: User "bob" cannot get resource "secrets" in API group "" in the namespace "default"');
    await expectStatus(bob.request('POST', '/api/v1/namespaces/default/secrets', { body: { metadata: { name: 'x' } } }), 403, /cannot create resource "secrets"/);
    await expectStatus(bob.request('GET', '/api/v1/namespaces/kube-system/pods'), 403, /in the namespace "kube-system"/);
    await expectStatus(bob.request('GET', '/api/v1/nodes'), 403, 'nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope');
    await expectStatus(bob.request('GET', '/apis/apps/v1/namespaces/default/deployments/x/scale'), 404); // view may read deployments/scale; x does not exist
    // discovery is open to every authenticated user
    assert.equal((await bob.request<any>('GET', '/api')).kind, 'APIVersions');
  });

  await t.test('kubectl: --token works and auth can-i answers yes/no', async () => {
    const base = ['--server', cp.server, '--certificate-authority', path.join(cp.dir, 'pki', 'ca.crt'), '--token', 'bobtoken0123456789'];
    const get = await kubectl([...base, 'get', 'pods', '-n', 'default'], cache);
    assert.equal(get.code, 0, get.stderr);
    const yes = await kubectl([...base, 'auth', 'can-i', 'list', 'pods', '-n', 'default'], cache);
    assert.equal(yes.stdout.trim(), 'yes', yes.stderr);
    const no = await kubectl([...base, 'auth', 'can-i', 'create', 'secrets', '-n', 'default'], cache);
    assert.equal(no.stdout.trim(), 'no', no.stderr);
    assert.equal(no.code, 1);
    const forbidden = await kubectl([...base, 'get', 'secrets', '-n', 'default'], cache);
    assert.notEqual(forbidden.code, 0);
    assert.match(forbidden.stderr, /secrets is forbidden: User "bob" cannot list resource "secrets" in API group "" in the namespace "default"/);
    const list = await kubectl([...base, 'auth', 'can-i', '--list', '-n', 'default'], cache);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /pods\s+\[\]\s+\[\]\s+\[get list watch\]/);
    const who = await kubectl([...base, 'auth', 'whoami', '-o', 'json'], cache);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(JSON.parse(who.stdout).status.userInfo.username, 'bob');
    const adminYes = await kubectl(['--kubeconfig', cp.kubeconfig, 'auth', 'can-i', 'delete', 'nodes'], cache);
    assert.equal(adminYes.stdout.trim(), 'yes', adminYes.stderr);
    const asBob = await kubectl(['--kubeconfig', cp.kubeconfig, 'auth', 'can-i', 'get', 'secrets', '-n', 'default', '--as', 'bob'], cache);
    assert.equal(asBob.stdout.trim(), 'no', asBob.stderr);
  });

  await t.test('a ServiceAccount token does exactly what its RoleBinding allows', async () => {
    await admin.request('POST', '/api/v1/namespaces', { body: { metadata: { name: 'team' } } });
    // the default ServiceAccount appears in a new namespace
    await waitFor('default ServiceAccount in team', () => admin.request('GET', '/api/v1/namespaces/team/serviceaccounts/default').then(() => true));
    await admin.request('POST', '/api/v1/namespaces/team/serviceaccounts', { body: { metadata: { name: 'robot' } } });
    await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles', {
      body: { metadata: { name: 'cm-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }, { apiGroups: [''], resources: ['configmaps'], resourceNames: ['mine'], verbs: ['update'] }] },
    });
    await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings', {
      body: { metadata: { name: 'robot-cm' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'robot' }] },
    });
    await admin.request('POST', '/api/v1/namespaces/team/configmaps', { body: { metadata: { name: 'mine' }, data: { a: '1' } } });
    await expectStatus(admin.request('POST', '/api/v1/namespaces/team/serviceaccounts/robot/token', { body: { spec: { expirationSeconds: 10 } } }), 422, /less than 10 minutes/);
    await expectStatus(admin.request('POST', '/api/v1/namespaces/team/serviceaccounts/ghost/token', { body: {} }), 404);
    const tr = await admin.request<any>('POST', '/api/v1/namespaces/team/serviceaccounts/robot/token', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } } });
    assert.equal(tr.kind, 'TokenRequest');
    const token: string = tr.status.token;
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, 'system:serviceaccount:team:robot');
    const robot = asToken(token);
    try {
      const who = await robot.request<any>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
      assert.equal(who.status.userInfo.username, 'system:serviceaccount:team:robot');
      assert.deepEqual(who.status.userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated']);
      assert.equal((await robot.request<any>('GET', '/api/v1/namespaces/team/configmaps')).items.length >= 1, true);
      const cm = await robot.request<any>('GET', '/api/v1/namespaces/team/configmaps/mine');
      await robot.request('PUT', '/api/v1/namespaces/team/configmaps/mine', { body: { ...cm, data: { a: '2' } } });
      await expectStatus(robot.request('POST', '/api/v1/namespaces/team/configmaps', { body: { metadata: { name: 'other' } } }), 403,
        'configmaps is forbidden: User "system:serviceaccount:team:robot" cannot create resource "configmaps" in API group "" in the namespace "team"');
      await expectStatus(robot.request('DELETE', '/api/v1/namespaces/team/configmaps/mine'), 403);
      await expectStatus(robot.request('GET', '/api/v1/namespaces/team/pods'), 403);
      await expectStatus(robot.request('GET', '/api/v1/namespaces/default/configmaps'), 403);
      await expectStatus(robot.request('GET', '/api/v1/namespaces/team/secrets'), 403);
      await expectStatus(robot.request('GET', '/api/v1/configmaps'), 403, /at the cluster scope/);
      const ssar = await robot.request<any>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: 'team', verb: 'list', resource: 'configmaps' } } },
      });
      assert.equal(ssar.status.allowed, true);
      // kubectl create token (a protobuf TokenRequest) issues a token that works the same way
      const ct = await kubectl(['--kubeconfig', cp.kubeconfig, 'create', 'token', 'robot', '-n', 'team', '--duration', '20m'], cache);
      assert.equal(ct.code, 0, ct.stderr);
      const viaKubectl = asToken(ct.stdout.trim());
      assert.equal((await viaKubectl.request<any>('GET', '/api/v1/namespaces/team/configmaps/mine')).metadata.name, 'mine');
      viaKubectl.close();
      // deleting the ServiceAccount invalidates its tokens
      await admin.request('DELETE', '/api/v1/namespaces/team/serviceaccounts/robot');
      await waitFor('the token to stop working', () => robot.request('GET', '/api/v1/namespaces/team/configmaps').then(() => false, (e) => e instanceof ApiError && e.code === 401));
    } finally {
      robot.close();
    }
  });

  await t.test('bootstrap tokens authenticate as system:bootstrap:<id>', async () => {
    await admin.request('POST', '/api/v1/namespaces/kube-system/secrets', {
      body: {
        metadata: { name: 'bootstrap-token-abcdef' }, type: 'bootstrap.kubernetes.io/token',
        stringData: { 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', 'auth-extra-groups': 'system:bootstrappers:worker' },
      },
    });
    const boot = asToken('abcdef.0123456789abcdef');
    try {
      const who = await waitFor('bootstrap token', () => boot.request<any>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { body: { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' } }));
      assert.equal(who.status.userInfo.username, 'system:bootstrap:abcdef');
      assert.ok(who.status.userInfo.groups.includes('system:bootstrappers'));
      assert.ok(who.status.userInfo.groups.includes('system:bootstrappers:worker'));
      await expectStatus(boot.request('GET', '/api/v1/pods'), 403);
      const wrong = asToken('abcdef.0123456789abcdee');
      await expectStatus(wrong.request('GET', '/api'), 401);
      wrong.close();
    } finally {
      boot.close();
    }
  });

  await t.test('request bodies over 3 MiB are 413', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 10, 'a');
    const r = await rawRequest(cp.server, cp.pki.ca.cert, 'POST', '/api/v1/namespaces/default/configmaps', { Authorization: 'Bearer bobtoken0123456789', 'Content-Type': 'application/json' }, big).catch((e) => ({ status: -1, body: String(e) }));
    // bob may not create configmaps: authorization refuses before the body is read (403), as Kubernetes does
    assert.ok(r.status === 403 || r.status === 413, JSON.stringify(r).slice(0, 200));
    const asAdmin = await admin.request('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'huge' }, data: { a: 'x'.repeat(3 * 1024 * 1024) } } }).then(() => 0, (e) => (e as ApiError).code);
    assert.equal(asAdmin, 413);
  });

  await t.test('the audit log records mutating requests without bodies', async () => {
    const lines = await waitFor('audit lines', () => {
      const l = readFileSync(cp.auditLog, 'utf8').trim().split('\n').map((x) => JSON.parse(x));
      return l.some((e) => e.objectRef?.resource === 'secrets' && e.verb === 'create' && e.responseStatus.code === 201) ? l : undefined;
    });
    const created = lines.find((e) => e.objectRef?.resource === 'secrets' && e.verb === 'create' && e.responseStatus.code === 201);
    assert.equal(created.user.username, 'admin');
    assert.equal(created.objectRef.namespace, 'default');
    assert.ok(created.requestReceivedTimestamp);
    const denied = lines.find((e) => e.user.username === 'bob' && e.responseStatus.code === 403);
    assert.ok(denied, 'a refused request is audited');
    const text = readFileSync(cp.auditLog, 'utf8');
    assert.doesNotMatch(text, /hunter2/);
    assert.doesNotMatch(text, /bobtoken/);
    for (const f of ['apiserver.log']) assert.doesNotMatch(readFileSync(path.join(cp.dir, f), 'utf8'), /hunter2|bobtoken0123456789/);
  });
  void net;
});
