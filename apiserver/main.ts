import * as fs from 'node:fs';
import { createPublicKey } from 'node:crypto';
import * as os from 'node:os';
import { Command } from 'commander';
import { runUntilSignal } from '../lib/daemon';
import { createLogger } from '../lib/log';
import { sleep } from '../lib/sleep';
import { buildApp } from './app';
import { parseTokenFile } from './auth';
import { fileAuditSink } from './audit';
import { TokenSigner, TokenVerifier } from './jwt';
import { Security } from './security';
import { bootstrap } from './bootstrap';
import { createMetrics } from './metrics';
import { firstServiceIP, parseCidr, parsePortRange } from './allocators';
import { Registry } from './registry';
import { ResourceStorage } from './resources';
import { ServiceAccountAdmission } from './serviceaccount-admission';
import { Etcd3Store } from './storage/etcd3';
import { KubeletClientPool } from '../kubelet/api/client';

/** The first non-internal IPv4 address of this host (for the `kubernetes` Endpoints when bound to 0.0.0.0). */
function hostAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('apiserver')
    .description('Coxswain API server: the Kubernetes API over HTTPS, backed by an etcd v3 store')
    .option('--bind-address <ip>', 'address to listen on', '127.0.0.1')
    .option('--secure-port <port>', 'HTTPS port', '6443')
    .option('--advertise-address <ip>', 'address published in the kubernetes Endpoints (default: bind address, or a host address when binding 0.0.0.0)')
    .requiredOption('--tls-cert-file <file>', 'serving certificate (PEM)')
    .requiredOption('--tls-private-key-file <file>', 'serving key (PEM)')
    .requiredOption('--client-ca-file <file>', 'CA that signs client certificates (PEM)')
    .option('--store-endpoints <urls>', 'comma-separated etcd v3 endpoints', 'http://127.0.0.1:2379')
    .option('--service-cluster-ip-range <cidr>', 'Service ClusterIP range', '10.96.0.0/12')
    .option('--service-node-port-range <range>', 'NodePort range', '30000-32767')
    .option('--kubelet-client-certificate <file>', 'client certificate towards kubelets (PEM); without it pods/log, exec and portforward are unavailable')
    .option('--kubelet-client-key <file>', 'key of --kubelet-client-certificate (PEM)')
    .option('--root-ca-file <file>', 'CA published to every namespace as the kube-root-ca.crt ConfigMap (default: --client-ca-file)')
    .option('--kubelet-certificate-authority <file>', 'CA that signs kubelet serving certificates (PEM; default: --client-ca-file)')
    .option('--token-auth-file <file>', 'static bearer tokens: CSV lines token,user,uid,"group1,group2"')
    .option('--service-account-key-file <files>', 'comma-separated PEM public keys that verify ServiceAccount tokens (default: the signing key\'s public key)')
    .option('--service-account-signing-key-file <file>', 'PEM private key (EC P-256 or RSA) that signs ServiceAccount tokens')
    .option('--service-account-issuer <url>', 'issuer (iss) of ServiceAccount tokens', 'https://kubernetes.default.svc.cluster.local')
    .option('--api-audiences <list>', 'comma-separated audiences a token must name (default: the issuer)')
    .option('--service-account-max-token-expiration <seconds>', 'longest lifetime of a requested token', '86400')
    .option('--authorization-mode <mode>', 'RBAC (default) or AlwaysAllow', 'RBAC')
    .option('--audit-log-path <file>', 'append an audit.k8s.io/v1 Event per mutating or refused request to this file (JSON lines)')
    .option('--min-request-timeout <seconds>', 'default watch timeout (randomised up to 2x)', '1800')
    .exitOverride()
    .allowExcessArguments(false);
  program.parse(argv, { from: 'user' });
  const o = program.opts();
  const log = createLogger('apiserver');

  const port = Number(o.securePort);
  const serviceCidr = parseCidr(o.serviceClusterIpRange);
  const nodePortRange = parsePortRange(o.serviceNodePortRange);
  const advertise = o.advertiseAddress ?? (o.bindAddress === '0.0.0.0' || o.bindAddress === '::' ? hostAddress() : o.bindAddress);
  const endpoints = String(o.storeEndpoints).split(',').map((s: string) => s.trim()).filter(Boolean);

  const store = new Etcd3Store(endpoints);
  if (!!o.kubeletClientCertificate !== !!o.kubeletClientKey) throw new Error('--kubelet-client-certificate and --kubelet-client-key go together');
  const kubelets = o.kubeletClientCertificate
    ? new KubeletClientPool({ cert: fs.readFileSync(o.kubeletClientCertificate), key: fs.readFileSync(o.kubeletClientKey), ca: fs.readFileSync(o.kubeletCertificateAuthority ?? o.clientCaFile) })
    : undefined;
  const registry = new Registry();
  // The admission hook is called at create time, after saAdmission below exists.
  const storage: ResourceStorage = new ResourceStorage({ store, registry, log, serviceCidr, nodePortRange, admit: (def, ns, obj): Promise<void> => saAdmission.admit(def, ns, obj) });
  const issuer = String(o.serviceAccountIssuer);
  const audiences = o.apiAudiences ? String(o.apiAudiences).split(',').map((a: string) => a.trim()).filter(Boolean) : [issuer];
  const signer = o.serviceAccountSigningKeyFile ? new TokenSigner(fs.readFileSync(o.serviceAccountSigningKeyFile), issuer) : undefined;
  const pubKeys = o.serviceAccountKeyFile
    ? String(o.serviceAccountKeyFile).split(',').map((f: string) => fs.readFileSync(f.trim(), 'utf8'))
    : o.serviceAccountSigningKeyFile ? [createPublicKey(fs.readFileSync(o.serviceAccountSigningKeyFile)).export({ type: 'spki', format: 'pem' }).toString()] : [];
  const saAdmission: ServiceAccountAdmission = new ServiceAccountAdmission(storage, registry, log, { mountTokens: !!signer });
  if (!['RBAC', 'AlwaysAllow'].includes(o.authorizationMode)) throw new Error(`--authorization-mode: want RBAC or AlwaysAllow, got ${o.authorizationMode}`);
  const security = new Security(storage, registry, log, {
    staticTokens: o.tokenAuthFile ? parseTokenFile(fs.readFileSync(o.tokenAuthFile, 'utf8')) : undefined,
    verifier: pubKeys.length ? new TokenVerifier(pubKeys, [issuer], audiences) : undefined,
    signer, apiAudiences: audiences, maxTokenExpirationSeconds: Number(o.serviceAccountMaxTokenExpiration),
  });
  const audit = o.auditLogPath ? fileAuditSink(o.auditLogPath, (err) => log.error({ err: err.message, file: o.auditLogPath }, 'audit log write failed')) : undefined;
  const app = buildApp(
    { storage, registry, authenticate: security.authenticate, log,
      authorize: o.authorizationMode === 'RBAC' ? security.authorize : () => ({ allowed: true, reason: 'AlwaysAllow' }),
      rulesFor: security.rulesFor, subresourceHandlers: { 'serviceaccounts/token': security.tokenRequest }, audit, metrics: createMetrics({ defaultMetrics: true }), serverAddress: `${advertise}:${port}`, minRequestTimeoutSeconds: Number(o.minRequestTimeout), kubelets },
    { https: { cert: fs.readFileSync(o.tlsCertFile), key: fs.readFileSync(o.tlsPrivateKeyFile), ca: fs.readFileSync(o.clientCaFile), requestCert: true, rejectUnauthorized: false } } as any,
  );

  // Signals are handled from here on: an apiserver waiting for its store stops cleanly too.
  let stopping = false;
  const stopped = runUntilSignal(log, async () => {
    stopping = true;
    security.stop();
    saAdmission.stop();
    storage.stop(); // ends every watch, so closing the server does not wait for them
    await Promise.race([app.close().catch(() => undefined), sleep(3_000)]);
    await store.close();
    kubelets?.close();
    await audit?.close();
  });

  log.info({ endpoints }, 'waiting for the store');
  await storage.start();
  for (let delay = 200; !stopping; delay = Math.min(delay * 2, 2_000)) {
    try {
      await bootstrap(storage, registry, { advertiseAddress: advertise, securePort: port, kubernetesServiceIP: firstServiceIP(serviceCidr) });
      await security.reconcileDefaultPolicy();
      break;
    } catch (e) {
      if (stopping) break;
      log.warn({ err: String(e) }, 'bootstrap failed; retrying');
      await sleep(delay);
    }
  }
  if (!stopping) await storage.resumeNamespaceCleanup();
  if (!stopping) security.startServiceAccountsLoop();
  if (!stopping) saAdmission.startRootCaLoop(fs.readFileSync(o.rootCaFile ?? o.clientCaFile, 'utf8'));
  if (!stopping) {
    await app.listen({ host: o.bindAddress, port });
    log.info({ address: `https://${o.bindAddress}:${port}`, advertise }, 'apiserver listening');
  }
  await stopped;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(() => process.exit(0), (err) => {
    // eslint-disable-next-line no-console
    console.error(err?.message ?? err);
    process.exit(1);
  });
}
