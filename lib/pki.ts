import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, randomBytes, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile, access } from 'node:fs/promises';
import path from 'node:path';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A PEM certificate and its PEM (PKCS#8) private key. */
export interface KeyPairPem {
  cert: string;
  key: string;
}

export interface CertRequest {
  /** Subject common name: the user name for client certificates. */
  commonName: string;
  /** Subject organizations: the groups for client certificates. */
  organizations?: string[];
  /** DNS names and IP addresses for serving certificates. */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Extended key usages. */
  server?: boolean;
  client?: boolean;
  validDays?: number;
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return (await webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), ALG, true, ['sign'])) as unknown as CryptoKey;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive
  return b.toString('hex');
}

/** Creates a self-signed certificate authority (ECDSA P-256). */
export async function createCA(commonName: string, validDays = 3650): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: new x509.Name([{ CN: [commonName] }]),
    notBefore: new Date(now - 5 * 60 * 1000),
    notAfter: new Date(now + validDays * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: await exportKey(keys.privateKey) };
}

/** Issues a leaf certificate signed by `ca`. */
export async function issueCert(ca: KeyPairPem, req: CertRequest): Promise<KeyPairPem> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importKey(ca.key);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const now = Date.now();
  const names: x509.JsonGeneralName[] = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(req.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const usages: string[] = [];
  if (req.server) usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (req.client) usages.push(x509.ExtendedKeyUsage.clientAuth);
  const subject: Record<string, string[]> = { CN: [req.commonName] };
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const nameParts: x509.JsonName = [subject];
  for (const o of req.organizations ?? []) nameParts.push({ O: [o] });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: new x509.Name(nameParts),
    issuer: caCert.subject,
    notBefore: new Date(now - 5 * 60 * 1000),
    notAfter: new Date(now + (req.validDays ?? 365) * DAY_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions,
  });
  return { cert: cert.toString('pem') + '\n', key: await exportKey(keys.privateKey) };
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** Where a cluster's PKI files live, under `<home>/pki`. */
export function pkiPaths(home: string) {
  const dir = path.join(home, 'pki');
  const pair = (name: string) => ({ cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) });
  return {
    dir,
    ca: pair('ca'),
    apiserver: pair('apiserver'),
    /** The apiserver's client certificate towards kubelets. */
    apiserverKubeletClient: pair('apiserver-kubelet-client'),
    admin: pair('admin'),
    scheduler: pair('scheduler'),
    controllers: pair('controllers'),
    proxy: pair('proxy'),
    kubelet: (node: string) => pair(`kubelet-${node}`),
    /** The store replica's certificate on this host: serving its clients and its peers, and dialing peers (etcd's model). */
    store: pair('store'),
    /** The apiserver's (and joiners') client certificate towards the store. */
    storeClient: pair('store-client'),
    /** ServiceAccount token signing key (PKCS#8 PEM, ES256) and its public key (SPKI PEM). */
    serviceAccount: { key: path.join(dir, 'sa.key'), pub: path.join(dir, 'sa.pub') },
  };
}

async function loadOrIssue(files: { cert: string; key: string }, make: () => Promise<KeyPairPem>): Promise<KeyPairPem> {
  if ((await exists(files.cert)) && (await exists(files.key))) {
    return { cert: await readFile(files.cert, 'utf8'), key: await readFile(files.key, 'utf8') };
  }
  const pair = await make();
  await writeFile(files.key, pair.key, { mode: 0o600 });
  await writeFile(files.cert, pair.cert, { mode: 0o644 });
  return pair;
}

export interface ClusterPki {
  ca: KeyPairPem;
  apiserver: KeyPairPem;
  apiserverKubeletClient: KeyPairPem;
  admin: KeyPairPem;
  scheduler: KeyPairPem;
  controllers: KeyPairPem;
  proxy: KeyPairPem;
  kubelet: KeyPairPem;
  /** ServiceAccount token signing key pair (PEM; `cert` holds the public key). */
  serviceAccount: KeyPairPem;
  /** Store certificates, only when asked for (clusters whose store is reached across hosts). */
  store?: KeyPairPem;
  storeClient?: KeyPairPem;
}

/** The ServiceAccount signing key pair: ECDSA P-256 (ES256), created once. */
async function loadOrCreateSaKey(files: { key: string; pub: string }): Promise<KeyPairPem> {
  if ((await exists(files.key)) && (await exists(files.pub))) {
    return { cert: await readFile(files.pub, 'utf8'), key: await readFile(files.key, 'utf8') };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await writeFile(files.key, key, { mode: 0o600 });
  await writeFile(files.pub, pub, { mode: 0o644 });
  return { cert: pub, key };
}

/**
 * Ensures the cluster CA and the certificates of every component exist under
 * `<home>/pki`, creating what is missing. Idempotent: a second start reuses the
 * files, so kubeconfigs handed out earlier keep working.
 */
export async function ensureClusterPki(
  home: string,
  opts: { nodeName: string; apiserverHosts?: string[]; apiserverIPs?: string[]; nodeIPs?: string[]; storeTls?: boolean },
): Promise<ClusterPki> {
  const p = pkiPaths(home);
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  const ca = await loadOrIssue(p.ca, () => createCA('coxswain-ca'));
  const serve = {
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'apiserver', ...(opts.apiserverHosts ?? [])],
    ipAddresses: ['127.0.0.1', '10.96.0.1', ...(opts.apiserverIPs ?? [])],
  };
  return {
    ca,
    apiserver: await loadOrIssue(p.apiserver, () => issueCert(ca, { commonName: 'kube-apiserver', server: true, ...serve })),
    apiserverKubeletClient: await loadOrIssue(p.apiserverKubeletClient, () =>
      issueCert(ca, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], client: true }),
    ),
    admin: await loadOrIssue(p.admin, () => issueCert(ca, { commonName: 'admin', organizations: ['system:masters'], client: true })),
    scheduler: await loadOrIssue(p.scheduler, () => issueCert(ca, { commonName: 'system:kube-scheduler', client: true })),
    controllers: await loadOrIssue(p.controllers, () => issueCert(ca, { commonName: 'system:kube-controller-manager', client: true })),
    proxy: await loadOrIssue(p.proxy, () => issueCert(ca, { commonName: 'system:kube-proxy', client: true })),
    kubelet: await loadOrIssue(p.kubelet(opts.nodeName), () =>
      issueCert(ca, {
        commonName: `system:node:${opts.nodeName}`,
        organizations: ['system:nodes'],
        client: true,
        server: true,
        dnsNames: ['localhost', opts.nodeName],
        ipAddresses: ['127.0.0.1', ...(opts.nodeIPs ?? [])],
      }),
    ),
    serviceAccount: await loadOrCreateSaKey(p.serviceAccount),
    ...(opts.storeTls
      ? {
          store: await loadOrIssue(p.store, () =>
            issueCert(ca, { commonName: `store-${opts.nodeName}`, server: true, client: true, dnsNames: ['localhost', opts.nodeName], ipAddresses: ['127.0.0.1', ...(opts.nodeIPs ?? [])] }),
          ),
          storeClient: await loadOrIssue(p.storeClient, () => issueCert(ca, { commonName: 'store-client', client: true })),
        }
      : {}),
  };
}
