import https from 'node:https';
import { randomBytes } from 'node:crypto';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1';
import { ApiClient, ApiError } from './client';
import { SIGNER_KUBELET_CLIENT, SIGNER_KUBELET_SERVING, createKeyAndCsr } from './csr';
import { type ParsedJoinToken, caHash } from './join-token';
import type { KeyPairPem } from './pki';
import { CERTIFICATE_SIGNING_REQUESTS } from './resources';
import { sleep } from './sleep';

/**
 * The joining host's side of token and trust (used by `coxswain agent` and `coxswain server
 * --server`): fetch the cluster CA without trusting anything and check it against the token's
 * hash before any secret is sent; then kubelet TLS bootstrapping — the bootstrap token asks
 * for a node client certificate through a CertificateSigningRequest, and that certificate asks
 * for the kubelet's serving certificate. A server token may also fetch the CA and
 * ServiceAccount keys (server-bootstrap).
 */

/** A join failure, worded for the user: what was wrong and what to do. */
export class JoinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JoinError';
  }
}

export type { ParsedJoinToken } from './join-token';

const bearer = (t: ParsedJoinToken) => `${t.id}.${t.secret}`;
const trimSlash = (s: string) => s.replace(/\/+$/, '');

/**
 * GET <server>/cacerts without verifying TLS and without any credential; returns the CA bundle
 * when its sha256 is the token's hash, else throws a JoinError. Nothing secret is sent.
 */
export async function fetchClusterCA(server: string, token: ParsedJoinToken, timeoutMs = 10_000): Promise<string> {
  const url = `${trimSlash(server)}/cacerts`;
  const body = await new Promise<string>((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false, agent: false, headers: { Accept: 'text/plain', 'User-Agent': 'coxswain-join/0.1' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new JoinError(`${url} answered HTTP ${res.statusCode}, not the cluster CA: is ${server} a Coxswain server?`));
        else resolve(text);
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof JoinError ? e : new JoinError(`cannot fetch the cluster CA from ${url}: ${e.message} (is the server address right and reachable?)`)));
  });
  const got = caHash(body);
  if (got !== token.caHash) {
    throw new JoinError(`the cluster CA at ${server} does not match the token's hash (got ${got}, token pins ${token.caHash}): wrong token or wrong server`);
  }
  return body;
}

const refused = (server: string) =>
  new JoinError(`the token was refused by ${server}: it is wrong, expired or deleted (create one with \`coxswain token create\` on a server)`);

export interface NodeCertificateRequest {
  server: string;
  /** The cluster CA from fetchClusterCA (verifies the server from here on). */
  ca: string;
  token: ParsedJoinToken;
  nodeName: string;
  /** The node's addresses: IP alternative names of its serving certificate. */
  nodeIPs: string[];
  /** DNS alternative names of its serving certificate (default: the node name). */
  hostnames?: string[];
  /** Deadline for both certificates (default 60 s). */
  timeoutMs?: number;
}

/**
 * Kubelet TLS bootstrapping: with the bootstrap token, a CSR for the node's client certificate
 * (CN system:node:<name>, O system:nodes); once signed, with that certificate, a CSR for its
 * serving certificate (the node IPs and hostnames). Both are approved and signed by the
 * cluster's controllers (controllers/csr). Throws JoinError when the token is refused, a
 * request is denied or fails, or the deadline passes.
 */
export async function requestNodeCertificates(o: NodeCertificateRequest): Promise<{ client: KeyPairPem; serving: KeyPairPem }> {
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  const user = `system:node:${o.nodeName}`;
  const boot = new ApiClient({ server: o.server, ca: o.ca, token: bearer(o.token) });
  let client: KeyPairPem;
  try {
    const req = await createKeyAndCsr({ commonName: user, organizations: ['system:nodes'] });
    const cert = await requestCertificate(boot, o.server, req.csr, SIGNER_KUBELET_CLIENT, ['digital signature', 'client auth'], deadline, true);
    client = { cert, key: req.key };
  } finally {
    boot.close();
  }
  const self = new ApiClient({ server: o.server, ca: o.ca, cert: client.cert, key: client.key });
  try {
    const req = await createKeyAndCsr({ commonName: user, organizations: ['system:nodes'], dnsNames: o.hostnames ?? [o.nodeName], ipAddresses: o.nodeIPs });
    const cert = await requestCertificate(self, o.server, req.csr, SIGNER_KUBELET_SERVING, ['digital signature', 'server auth'], deadline, false);
    return { client, serving: { cert, key: req.key } };
  } finally {
    self.close();
  }
}

/** Creates one CSR and waits (polling) until it has a certificate, is denied or failed, or the deadline passes. */
async function requestCertificate(c: ApiClient, server: string, csrPem: string, signerName: string, usages: string[], deadline: number, withToken: boolean): Promise<string> {
  const name = `node-csr-${randomBytes(8).toString('hex')}`;
  const body: CertificateSigningRequest = {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName, usages },
  };
  try {
    await c.create(CERTIFICATE_SIGNING_REQUESTS, body);
  } catch (e) {
    if (e instanceof ApiError && e.code === 401) throw withToken ? refused(server) : new JoinError(`${server} refused the new node client certificate (HTTP 401)`);
    if (e instanceof ApiError && e.code === 403) throw new JoinError(`${server} does not let this ${withToken ? 'token' : 'node'} ask for a certificate: ${e.message}`);
    throw new JoinError(`cannot ask ${server} for a certificate (${signerName}): ${(e as Error).message}`);
  }
  for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
    let csr: CertificateSigningRequest | undefined;
    try {
      csr = await c.get<CertificateSigningRequest>(CERTIFICATE_SIGNING_REQUESTS, name);
    } catch (e) {
      if (e instanceof ApiError && e.code === 401) throw withToken ? refused(server) : new JoinError(`${server} stopped accepting the node client certificate (HTTP 401)`);
      if (!(e instanceof ApiError && e.code >= 500)) throw e;
    }
    const cond = (t: string) => csr?.status?.conditions?.find((x) => x.type === t && x.status === 'True');
    const bad = cond('Denied') ?? cond('Failed');
    if (bad) throw new JoinError(`certificate request ${name} (${signerName}) was ${bad.type === 'Denied' ? 'denied' : 'not signed'}: ${bad.message ?? bad.reason ?? 'no reason given'}`);
    if (csr?.status?.certificate) return Buffer.from(csr.status.certificate, 'base64').toString('utf8');
    if (Date.now() >= deadline) {
      throw new JoinError(`certificate request ${name} (${signerName}) was not ${cond('Approved') ? 'signed' : 'approved'} in time: are the controllers running with --cluster-signing-cert-file? (\`kubectl get csr\` on a server shows it)`);
    }
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
  }
}

/** What a joining server gets: the CA and ServiceAccount key files (paths relative to $COXSWAIN_HOME/pki) and the store's endpoints. */
export interface ServerBootstrapFiles { files: Record<string, string>; storeEndpoints: string[] }

/** GET /coxswain/v1/server-bootstrap with a server token; JoinError when refused or when the token may join agents only. */
export async function fetchServerBootstrap(server: string, ca: string, token: ParsedJoinToken): Promise<ServerBootstrapFiles> {
  const c = new ApiClient({ server, ca, token: bearer(token) });
  try {
    const b = await c.request<ServerBootstrapFiles>('GET', '/coxswain/v1/server-bootstrap');
    if (!b || typeof b !== 'object' || typeof b.files !== 'object' || !Array.isArray(b.storeEndpoints)) throw new JoinError(`${server} answered the server bootstrap with something unexpected`);
    return b;
  } catch (e) {
    if (e instanceof ApiError && e.code === 401) throw refused(server);
    if (e instanceof ApiError && e.code === 403) throw new JoinError('this token may join agents only; a server needs a server token (`coxswain token create --role server` on a server, or the token in $COXSWAIN_HOME/token there)');
    if (e instanceof ApiError && e.code === 404) throw new JoinError(`${server} does not hand out server bootstrap files (its apiserver runs without --server-bootstrap-files)`);
    throw e;
  } finally {
    c.close();
  }
}
