/**
 * Issue 11, token and trust: on a loopback `coxswain up` cluster, a joining host fetches the
 * cluster CA, checks it against the token's hash before any secret leaves it, and gets its
 * certificates by kubelet TLS bootstrapping (bootstrap token → CSR → client certificate →
 * serving CSR). Wrong, expired and deleted tokens are refused in so many words and leave no
 * CSR; a server token alone gets the server bootstrap files; `kubectl get csr` and
 * `kubectl certificate approve/deny` work.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1';
import { ApiClient } from '../lib/client';
import { createKeyAndCsr } from '../lib/csr';
import { JoinError, fetchClusterCA, fetchServerBootstrap, requestNodeCertificates } from '../lib/join';
import { type ParsedJoinToken, parseJoinToken } from '../lib/join-token';
import { loadKubeconfig } from '../lib/kubeconfig';
import { createCA, issueCert, pkiPaths } from '../lib/pki';
import { CERTIFICATE_SIGNING_REQUESTS, NODES } from '../lib/resources';
import { freePort, startProcess, stopProcess, waitFor } from './lib/cluster';
import { COXSWAIN, startUp, tearDownUp, type UpCluster } from './lib/up';

const run = promisify(execFile);
const NODE = 'trust-e2e';
const SERVICE_CIDR = '10.131.0.0/16';
const REFUSED = /the token was refused by .*: it is wrong, expired or deleted \(create one with `coxswain token create` on a server\)/;

test('join tokens: CA pinning, TLS bootstrapping, refusals, server bootstrap', { timeout: 300_000 }, async (t) => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'cox-trust-'));
  let cluster: UpCluster | undefined;
  t.after(() => tearDownUp(cluster, home, NODE, SERVICE_CIDR));
  cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: '10.241.0.0/16', nodePortRange: '32500-32599' });
  const kc = cluster.kubeconfig;
  const admin = cluster.client();
  t.after(() => admin.close());
  const server = loadKubeconfig(kc).server;
  const coxswain = async (...args: string[]) => (await run(process.execPath, [COXSWAIN, ...args, '--kubeconfig', kc])).stdout;
  const kubectl = async (...args: string[]) => (await run('kubectl', ['--kubeconfig', kc, ...args])).stdout;
  const csrNames = async () => (await admin.list<CertificateSigningRequest>(CERTIFICATE_SIGNING_REQUESTS)).items.map((c) => c.metadata!.name!).sort();
  const join = async (token: ParsedJoinToken, nodeName: string) => {
    const ca = await fetchClusterCA(server, token);
    return requestNodeCertificates({ server, ca, token, nodeName, nodeIPs: ['127.0.0.9'], timeoutMs: 30_000 });
  };

  const agentToken = parseJoinToken(await coxswain('token', 'create', '--ttl', '1h', '--description', 'e2e agent'));

  await t.test('an agent token gets a client and a serving certificate', async () => {
    const ca = await fetchClusterCA(server, agentToken);
    assert.equal(ca, await readFile(pkiPaths(home).ca.cert, 'utf8'));
    const certs = await requestNodeCertificates({ server, ca, token: agentToken, nodeName: 'joiner-1', nodeIPs: ['127.0.0.9'], hostnames: ['joiner-1.example'] });
    const caCert = new X509Certificate(ca);
    const client = new X509Certificate(certs.client.cert);
    assert.ok(client.checkIssued(caCert) && client.verify(caCert.publicKey), 'the client certificate chains to the cluster CA');
    assert.match(client.subject, /CN=system:node:joiner-1/);
    // with the client certificate, the API knows this host as system:node:joiner-1
    const asNode = new ApiClient({ server, ca, cert: certs.client.cert, key: certs.client.key });
    t.after(() => asNode.close());
    await asNode.list(NODES);
    const review = await asNode.request<{ status: { userInfo: { username: string; groups: string[] } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    assert.equal(review.status.userInfo.username, 'system:node:joiner-1');
    assert.ok(review.status.userInfo.groups.includes('system:nodes'));
    const serving = new X509Certificate(certs.serving.cert);
    assert.ok(serving.checkIssued(caCert) && serving.verify(caCert.publicKey), 'the serving certificate chains to the cluster CA');
    assert.match(serving.subjectAltName ?? '', /IP Address:127\.0\.0\.9/);
    assert.match(serving.subjectAltName ?? '', /DNS:joiner-1\.example/);
    assert.ok(serving.checkIP('127.0.0.9'));
  });

  await t.test('kubectl get csr lists the requests as approved and issued', async () => {
    const out = await kubectl('get', 'csr');
    assert.match(out, /NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION/);
    assert.match(out, new RegExp(`kubernetes.io/kube-apiserver-client-kubelet\\s+system:bootstrap:${agentToken.id}\\s+<none>\\s+Approved,Issued`));
    assert.match(out, /kubernetes.io\/kubelet-serving\s+system:node:joiner-1\s+<none>\s+Approved,Issued/);
    assert.match(await kubectl('explain', 'csr.spec'), /signerName\s+<string>/);
  });

  await t.test('kubectl certificate approve and deny', async () => {
    const mk = async (name: string) => {
      const { csr } = await createKeyAndCsr({ commonName: `user-${name}` });
      await admin.create(CERTIFICATE_SIGNING_REQUESTS, { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
        spec: { request: Buffer.from(csr).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 3600 } } as CertificateSigningRequest);
    };
    await mk('e2e-deny');
    await mk('e2e-approve');
    await kubectl('certificate', 'deny', 'e2e-deny');
    await kubectl('certificate', 'approve', 'e2e-approve');
    const approved = await waitFor('the approved request to be signed', async () => {
      const c = await admin.get<CertificateSigningRequest>(CERTIFICATE_SIGNING_REQUESTS, 'e2e-approve');
      return c.status?.certificate ? c : undefined;
    });
    const cert = new X509Certificate(Buffer.from(approved.status!.certificate!, 'base64'));
    const hours = (Date.parse(cert.validTo) - Date.now()) / 3_600_000;
    assert.ok(hours > 0.9 && hours < 1.1, `expirationSeconds 3600 honoured (valid for ${hours.toFixed(2)} h)`);
    const out = await kubectl('get', 'csr', 'e2e-deny', 'e2e-approve');
    assert.match(out, /e2e-deny\s.*\sDenied\n/);
    assert.match(out, /e2e-approve\s.*\sApproved,Issued\n/);
    // a denied request is never signed (the signer saw both; the approved one is done)
    const denied = await admin.get<CertificateSigningRequest>(CERTIFICATE_SIGNING_REQUESTS, 'e2e-deny');
    assert.equal(denied.status?.certificate, undefined);
    // spec.username is the requester's, whatever the body said
    assert.equal(denied.spec.username, 'admin');
  });

  await t.test('a wrong secret is refused and leaves no CSR', async () => {
    const before = await csrNames();
    const wrong = { ...agentToken, secret: agentToken.secret.split('').reverse().join('') === agentToken.secret ? 'zzzzzzzzzzzzzzzz' : agentToken.secret.split('').reverse().join('') };
    await assert.rejects(join(wrong, 'joiner-wrong'), (e: Error) => e instanceof JoinError && REFUSED.test(e.message));
    assert.deepEqual(await csrNames(), before);
  });

  await t.test('an expired token is refused and leaves no CSR', async () => {
    const short = parseJoinToken(await coxswain('token', 'create', '--ttl', '2s'));
    const list = await coxswain('token', 'list');
    const row = list.split('\n').find((l) => l.startsWith(short.id));
    const expiration = /\(([^)]+)\)/.exec(row ?? '')?.[1];
    assert.ok(expiration, `token list shows the expiry: ${list}`);
    await waitFor('the token to expire', () => Date.now() > Date.parse(expiration!) + 100, 10_000);
    const before = await csrNames();
    await assert.rejects(join(short, 'joiner-expired'), (e: Error) => e instanceof JoinError && REFUSED.test(e.message));
    assert.deepEqual(await csrNames(), before);
    assert.match(await coxswain('token', 'list'), new RegExp(`${short.id}\\s+agent\\s+<expired>`));
  });

  await t.test('a deleted token is refused and leaves no CSR', async () => {
    const doomed = parseJoinToken(await coxswain('token', 'create'));
    assert.match(await coxswain('token', 'delete', doomed.id), new RegExp(`token ${doomed.id} deleted`));
    await waitFor('the token to be gone from the list', async () => !(await coxswain('token', 'list')).includes(doomed.id));
    const before = await csrNames();
    await assert.rejects(join(doomed, 'joiner-deleted'), (e: Error) => e instanceof JoinError && REFUSED.test(e.message));
    assert.deepEqual(await csrNames(), before);
    await assert.rejects(coxswain('token', 'delete', doomed.id), /no join token with id/);
  });

  await t.test('a CA that does not match the hash is refused before any secret is sent', async () => {
    // an impostor: another CA, a valid TLS server, recording every request
    const otherCa = await createCA('impostor-ca');
    const tls = await issueCert(otherCa, { commonName: 'impostor', server: true, ipAddresses: ['127.0.0.1'] });
    const seen: { url: string; authorization?: string }[] = [];
    const impostor = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      if (req.url === '/cacerts') res.end(otherCa.cert);
      else { res.statusCode = 201; res.end('{}'); }
    });
    const port = await freePort();
    await new Promise<void>((resolve) => impostor.listen(port, '127.0.0.1', resolve));
    t.after(() => impostor.close());
    const fake = `https://127.0.0.1:${port}`;
    // the join flow as an agent runs it: fetch and check the CA, then bootstrap
    const joinAt = async (s: string) => {
      const ca = await fetchClusterCA(s, agentToken);
      return requestNodeCertificates({ server: s, ca, token: agentToken, nodeName: 'joiner-impostor', nodeIPs: ['127.0.0.9'] });
    };
    await assert.rejects(joinAt(fake), (e: Error) => e instanceof JoinError && /the cluster CA at https:\/\/127\.0\.0\.1:\d+ does not match the token's hash \(got [0-9a-f]{64}, token pins [0-9a-f]{64}\): wrong token or wrong server/.test(e.message));
    assert.deepEqual(seen, [{ url: '/cacerts', authorization: undefined }], 'only /cacerts was asked for, without credentials');
    // and a token whose hash is wrong is refused by the real server too, before its secret is sent
    await assert.rejects(fetchClusterCA(server, { ...agentToken, caHash: 'f'.repeat(64) }), /does not match the token's hash/);
  });

  await t.test('server bootstrap files go to a server token only', async () => {
    // `coxswain up` runs its apiserver without --server-bootstrap-files: 404, in words
    const ca = await fetchClusterCA(server, agentToken);
    await assert.rejects(fetchServerBootstrap(server, ca, parseJoinToken(await coxswain('token', 'create', '--role', 'server'))), /does not hand out server bootstrap files/);
    // a second apiserver over the same store, with the flag (as `coxswain server` runs it)
    const p = pkiPaths(home);
    const port = await freePort();
    const logs = await mkdtemp(path.join(os.tmpdir(), 'cox-trust-api-'));
    const api = startProcess('apiserver-2', logs, ['apiserver', '--secure-port', String(port), '--tls-cert-file', p.apiserver.cert, '--tls-private-key-file', p.apiserver.key,
      '--client-ca-file', p.ca.cert, '--store-endpoints', cluster!.storeEndpoints.map((e) => `http://${e}`).join(','), '--service-cluster-ip-range', SERVICE_CIDR,
      '--service-node-port-range', '32500-32599', '--service-account-key-file', p.serviceAccount.pub, '--service-account-signing-key-file', p.serviceAccount.key,
      '--server-bootstrap-files', p.dir]);
    t.after(() => stopProcess(api));
    const server2 = `https://127.0.0.1:${port}`;
    await waitFor('the second apiserver', () => fetchClusterCA(server2, agentToken).then(() => true), 60_000);
    await assert.rejects(fetchServerBootstrap(server2, ca, agentToken), (e: Error) => e instanceof JoinError && /this token may join agents only; a server needs a server token/.test(e.message));
    const serverToken = parseJoinToken(await coxswain('token', 'create', '--role', 'server', '--ttl', '0', '--description', 'e2e server'));
    const b = await fetchServerBootstrap(server2, ca, serverToken);
    assert.deepEqual(Object.keys(b.files).sort(), ['ca.crt', 'ca.key', 'sa.key', 'sa.pub']);
    for (const [f, pem] of Object.entries(b.files)) assert.equal(pem, await readFile(path.join(p.dir, f), 'utf8'), f);
    assert.deepEqual(b.storeEndpoints, cluster!.storeEndpoints.map((e) => `http://${e}`));
    await assert.rejects(fetchServerBootstrap(server2, ca, { ...serverToken, secret: 'x'.repeat(16) }), REFUSED);
    assert.match(await coxswain('token', 'list'), new RegExp(`${serverToken.id}\\s+server\\s+<forever>\\s+e2e server`));
  });
});
