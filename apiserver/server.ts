import type { FastifyInstance } from 'fastify';
import { runUntilSignal } from '../lib/daemon';
import type { Logger } from '../lib/log';
import { sleep } from '../lib/sleep';
import type { AuditSink } from './audit';
import { bootstrap } from './bootstrap';
import { EndpointReconciler } from './endpoint-reconciler';
import type { Registry } from './registry';
import type { ResourceStorage } from './resources';
import type { Security } from './security';
import type { ServiceAccountAdmission } from './serviceaccount-admission';
import type { Store } from './storage/types';
import type { KubeletClientPool } from '../kubelet/api/client';
import type { MetricsCollector } from './metrics-api/collector';

/** Everything main.ts builds: the adapters and the components over them. */
export interface ApiServer {
  store: Store;
  registry: Registry;
  storage: ResourceStorage;
  security: Security;
  saAdmission: ServiceAccountAdmission;
  app: FastifyInstance;
  kubelets?: KubeletClientPool;
  audit?: AuditSink;
  /** Scrapes the kubelets for the Metrics API; started once listening. */
  metricsCollector?: MetricsCollector;
}

export interface ServeOptions {
  bindAddress: string;
  securePort: number;
  advertiseAddress: string;
  /** the ClusterIP of the `kubernetes` Service */
  kubernetesServiceIP: string;
  /** the ClusterIP of the cluster DNS Service (kube-system/kube-dns); absent: none is created */
  clusterDnsIP?: string;
  /** PEM published to every namespace as kube-root-ca.crt */
  rootCa: string;
}

/**
 * Runs the apiserver until SIGTERM/SIGINT: loads the watch caches, bootstraps the default
 * objects and RBAC policy (retrying while the store is not ready), starts the background
 * loops, then listens. A signal at any point stops it cleanly.
 */
export async function serve(s: ApiServer, o: ServeOptions, log: Logger): Promise<void> {
  let stopping = false;
  const endpoints = new EndpointReconciler(s.storage, s.registry, log, { address: o.advertiseAddress, port: o.securePort });
  let reconciling = false;
  const stopped = runUntilSignal(log, async () => {
    stopping = true;
    if (reconciling) await Promise.race([endpoints.stop(), sleep(2_000)]);
    s.metricsCollector?.stop();
    s.security.stop();
    s.saAdmission.stop();
    s.storage.stop(); // ends every watch, so closing the server does not wait for them
    await Promise.race([s.app.close().catch(() => undefined), sleep(3_000)]);
    await s.store.close();
    s.kubelets?.close();
    await s.audit?.close();
  });

  await s.storage.start();
  for (let delay = 200; !stopping; delay = Math.min(delay * 2, 2_000)) {
    try {
      await bootstrap(s.storage, s.registry, { advertiseAddress: o.advertiseAddress, securePort: o.securePort, kubernetesServiceIP: o.kubernetesServiceIP, clusterDnsIP: o.clusterDnsIP, warn: (msg, err) => log.warn({ err }, msg) });
      await s.security.reconcileDefaultPolicy();
      break;
    } catch (e) {
      if (stopping) break;
      log.warn({ err: String(e) }, 'bootstrap failed; retrying');
      await sleep(delay);
    }
  }
  if (!stopping) await s.storage.resumeNamespaceCleanup();
  if (!stopping) s.security.startServiceAccountsLoop();
  if (!stopping) s.saAdmission.startRootCaLoop(o.rootCa);
  if (!stopping) {
    await s.app.listen({ host: o.bindAddress, port: o.securePort });
    log.info({ address: `https://${o.bindAddress}:${o.securePort}`, advertise: o.advertiseAddress }, 'apiserver listening');
    reconciling = true;
    endpoints.start();
    s.metricsCollector?.start();
  }
  await stopped;
}
