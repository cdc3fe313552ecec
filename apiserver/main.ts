import { limitRangerAdmission } from './limitranger';
import { resourceQuotaAdmission } from './resourcequota-admission';
import { priorityAdmission } from './priority-admission';
import * as fs from 'node:fs';
import { createPublicKey } from 'node:crypto';
import type { FastifyServerOptions } from 'fastify';
import { createLogger, type Logger } from '../lib/log';
import { AdmissionChain } from './admission';
import { type ServerBootstrap, buildApp } from './app';
import * as path from 'node:path';
import { pkiPaths } from '../lib/pki';
import { parseTokenFile } from './auth';
import { fileAuditSink } from './audit';
import { TokenSigner, TokenVerifier } from './jwt';
import { Security } from './security';
import { createMetrics } from './metrics';
import { clusterDnsAddress, firstAddress, type Cidr } from '../lib/ipv4';
import { parsePortRange, parseServiceCidr } from './allocators';
import { type ApiServerOptions, parseOptions } from './options';
import { Registry } from './registry';
import { ResourceStorage } from './resources';
import { type ApiServer, serve } from './server';
import { defaultTolerationSecondsAdmission } from './default-toleration-seconds';
import { defaultStorageClassAdmission } from './default-storage-class';
import { storageProtectionAdmission } from './storage-protection-admission';
import { pvcResizeAdmission } from './pvc-resize-admission';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { ServiceAccountAdmission } from './serviceaccount-admission';
import { Etcd3Store } from './storage/etcd3';
import { KubeletClientPool } from '../kubelet/api/client';
import { MetricsStore } from './metrics-api/core';
import { MetricsApi } from './metrics-api/handler';
import { MetricsCollector } from './metrics-api/collector';
import type { Node } from 'kubernetes-types/core/v1';

/**
 * The apiserver's composition root: parse the flags (options.ts), build the adapters and
 * components, hand them to `serve` (server.ts).
 *
 * Where things are (README.md has the whole map):
 * - a kind — its definition, defaults, validation, printer columns and storage strategy — is
 *   one file of its API group, `groups/<group>/<kind>.ts`, listed by registry.ts (how a
 *   Service is validated and stored: groups/core/service.ts);
 * - a request: rest.ts dispatches to one handler per verb in handlers/;
 * - the generic storage over the store: resources.ts, before-write.ts, storage/etcd3.ts;
 * - authentication and authorization: security.ts (auth.ts, rbac.ts); admission: admission.ts.
 */
export async function main(argv: string[]): Promise<void> {
  const opts = parseOptions(argv);
  const log = createLogger('apiserver');
  const serviceCidr = parseServiceCidr(opts.serviceClusterIpRange);
  const rootCa = fs.readFileSync(opts.rootCaFile, 'utf8');
  const server = build(opts, log, serviceCidr, rootCa);
  log.info({ endpoints: opts.storeEndpoints }, 'waiting for the store');
  await serve(server, {
    bindAddress: opts.bindAddress, securePort: opts.securePort, advertiseAddress: opts.advertiseAddress,
    kubernetesServiceIP: firstAddress(serviceCidr), clusterDnsIP: dnsIP(serviceCidr, log), rootCa,
  }, log);
}

/** The cluster DNS Service's ClusterIP: the 10th address of the service range (none in a range too small for it). */
function dnsIP(serviceCidr: Cidr, log: Logger): string | undefined {
  try {
    return clusterDnsAddress(serviceCidr);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'no cluster DNS Service');
    return undefined;
  }
}

function build(o: ApiServerOptions, log: Logger, serviceCidr: Cidr, rootCa: string): ApiServer {
  const readOpt = (f: string | undefined): Buffer | undefined => (f ? fs.readFileSync(f) : undefined);
  const store = new Etcd3Store(o.storeEndpoints, {
    tls: { ca: readOpt(o.storeTls.caFile), cert: readOpt(o.storeTls.certFile), key: readOpt(o.storeTls.keyFile) },
  });
  const kubelets = o.kubeletClient
    ? new KubeletClientPool({ cert: fs.readFileSync(o.kubeletClient.certFile), key: fs.readFileSync(o.kubeletClient.keyFile), ca: fs.readFileSync(o.kubeletCertificateAuthority) })
    : undefined;
  const registry = new Registry();
  const admission = new AdmissionChain();
  const storage = new ResourceStorage({ store, registry, log, serviceCidr, nodePortRange: parsePortRange(o.serviceNodePortRange), admit: admission.admit, admitUpdate: admission.admitUpdate, validateUpdate: admission.validateUpdate, eventTtlSeconds: o.eventTtlSeconds });
  const security = buildSecurity(o, storage, registry, log);
  const saAdmission = new ServiceAccountAdmission(storage, registry, log, { mountTokens: security.signsTokens });
  admission.register(saAdmission);
  admission.register(priorityAdmission(storage, registry));
  admission.register(defaultTolerationSecondsAdmission(registry.lookup('', 'v1', 'pods'), o.defaultNotReadyTolerationSeconds, o.defaultUnreachableTolerationSeconds));
  const claimDef = registry.lookup('', 'v1', 'persistentvolumeclaims');
  admission.register(defaultStorageClassAdmission(claimDef, storageClassLister(storage, registry)));
  admission.register(storageProtectionAdmission(claimDef, registry.lookup('', 'v1', 'persistentvolumes')));
  admission.register(pvcResizeAdmission(claimDef, storageClassLister(storage, registry)));
  admission.register(limitRangerAdmission(storage, registry));
  admission.register(resourceQuotaAdmission(storage, registry));
  // the Metrics API needs the kubelets' Stats: only with a kubelet client certificate
  const metricsStore = kubelets ? new MetricsStore() : undefined;
  const nodeDef = registry.lookup('', 'v1', 'nodes');
  const metricsCollector = kubelets && metricsStore && nodeDef
    ? new MetricsCollector({ store: metricsStore, kubelets, log: log.child({ loop: 'metrics' }), resolutionMs: o.metricResolutionMs, listNodes: async () => (await storage.list(nodeDef, undefined, '0')).items.map((c) => c.obj as Node) })
    : undefined;
  const audit = o.auditLogPath ? fileAuditSink(o.auditLogPath, (err) => log.error({ err: err.message, file: o.auditLogPath }, 'audit log write failed')) : undefined;
  const app = buildApp({
    storage, registry, authenticate: security.authenticate, log,
    authorize: o.authorizationMode === 'RBAC' ? security.authorize : () => ({ allowed: true, reason: 'AlwaysAllow' }),
    rulesFor: security.rulesFor, subresourceHandlers: { 'serviceaccounts/token': security.tokenRequest }, audit,
    metrics: createMetrics({ defaultMetrics: true }), serverAddress: `${o.advertiseAddress}:${o.securePort}`, minRequestTimeoutSeconds: o.minRequestTimeoutSeconds, kubelets,
    metricsApi: metricsStore ? new MetricsApi({ store: metricsStore, storage, registry }) : undefined,
    caBundle: rootCa, serverBootstrap: o.serverBootstrapFiles ? serverBootstrapReader(o.serverBootstrapFiles, o.storeEndpoints) : undefined,
  }, {
    https: { cert: fs.readFileSync(o.tlsCertFile), key: fs.readFileSync(o.tlsPrivateKeyFile), ca: fs.readFileSync(o.clientCaFile), requestCert: true, rejectUnauthorized: false },
  } as FastifyServerOptions & { https: unknown });
  return { store, registry, storage, security, saAdmission, app, kubelets, audit, metricsCollector };
}

/** The StorageClasses, from the apiserver's watch cache (for DefaultStorageClass admission). */
function storageClassLister(storage: ResourceStorage, registry: Registry): () => Promise<StorageClass[]> {
  const def = registry.lookup('storage.k8s.io', 'v1', 'storageclasses');
  return async () => (def ? (await storage.list(def, undefined)).items.map((c) => c.obj as StorageClass) : []);
}

/** Reads, per request, the files a joining server needs from the pki dir (names as lib/pki.ts pkiPaths has them). */
function serverBootstrapReader(dir: string, storeEndpoints: string[]): () => Promise<ServerBootstrap> {
  const p = pkiPaths('');
  const names = [p.ca.cert, p.ca.key, p.serviceAccount.key, p.serviceAccount.pub].map((f) => path.relative(p.dir, f));
  // the store's CA, in clusters whose store speaks TLS (coxswain server)
  const optional = [p.storeCa.cert, p.storeCa.key].map((f) => path.relative(p.dir, f));
  return async () => {
    const files: Record<string, string> = {};
    for (const n of names) files[n] = await fs.promises.readFile(path.join(dir, n), 'utf8');
    for (const n of optional) {
      const text = await fs.promises.readFile(path.join(dir, n), 'utf8').catch(() => undefined);
      if (text !== undefined) files[n] = text;
    }
    return { files, storeEndpoints };
  };
}

/** Authentication (client certificates, static and ServiceAccount tokens, bootstrap tokens), RBAC and the token signer. */
function buildSecurity(o: ApiServerOptions, storage: ResourceStorage, registry: Registry, log: Logger): Security {
  const issuer = o.serviceAccountIssuer;
  const signer = o.serviceAccountSigningKeyFile ? new TokenSigner(fs.readFileSync(o.serviceAccountSigningKeyFile), issuer) : undefined;
  const pubKeys = o.serviceAccountKeyFiles.length
    ? o.serviceAccountKeyFiles.map((f) => fs.readFileSync(f, 'utf8'))
    : o.serviceAccountSigningKeyFile ? [createPublicKey(fs.readFileSync(o.serviceAccountSigningKeyFile)).export({ type: 'spki', format: 'pem' }).toString()] : [];
  return new Security(storage, registry, log, {
    staticTokens: o.tokenAuthFile ? parseTokenFile(fs.readFileSync(o.tokenAuthFile, 'utf8')) : undefined,
    verifier: pubKeys.length ? new TokenVerifier(pubKeys, [issuer], o.apiAudiences) : undefined,
    signer, apiAudiences: o.apiAudiences, maxTokenExpirationSeconds: o.serviceAccountMaxTokenExpirationSeconds,
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(() => process.exit(0), (err) => {
    console.error(err?.message ?? err);
    process.exit(1);
  });
}
