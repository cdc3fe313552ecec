import os from 'node:os';
import fs from 'node:fs';
import { CsrController } from './csr/controller';
import { Option } from 'commander';
import { Registry } from 'prom-client';
import { ApiClient } from '../lib/client';
import { EventRecorder } from '../lib/events';
import { createLogger, type Logger } from '../lib/log';
import { SharedInformers, type ControllerContext, type RunnableController } from './context';
import { DeploymentController } from './deployment/controller';
import { DisruptionController } from './disruption/controller';
import { CordonTaintController } from './cordon/controller';
import { EndpointsController } from './endpoints/controller';
import { EndpointSliceController } from './endpointslice/controller';
import { EndpointSliceMirroringController } from './endpointslicemirroring/controller';
import { DEFAULT_MAX_ENDPOINTS_PER_SLICE } from './endpointslice/sync';
import { startControlLoops, type RunningControlLoops } from '../lib/control-loops';
import { runUntilSignal } from '../lib/daemon';
import { controlLoopCommand, leaderElectorFor, parseControlLoopFlags, type LeaderElectionConfig } from '../lib/leader-election-flags';
import { parseDuration } from '../lib/duration';
import { GarbageCollector } from './gc/controller';
import { ControllerMetrics } from '../lib/reconcile/metrics';
import { parseCidr } from '../lib/ipv4';
import { NodeIpamController } from './nodeipam/controller';
import { DEFAULT_NODE_MONITOR_GRACE_MS, DEFAULT_NODE_MONITOR_PERIOD_MS, NodeLifecycleController } from './nodelifecycle/controller';
import { TaintEvictionController } from './tainteviction/controller';
import { ReplicaSetController } from './replicaset/controller';
import { ResourceQuotaController } from './resourcequota/controller';
import { JobController } from './job/controller';
import { CronJobController } from './cronjob/controller';
import { PersistentVolumeController } from './persistentvolume/controller';
import { DEFAULT_HELPER_IMAGE, DEFAULT_LOCAL_PATH_DIR } from './persistentvolume/local-path';
import { StatefulSetController } from './statefulset/controller';
import { DaemonSetController } from './daemonset/controller';
import { PodGcController } from './podgc/controller';
import { IngressStatusController } from './ingress-status/controller';
import { DEFAULT_TERMINATED_POD_GC_THRESHOLD } from './podgc/podgc';
import { ServiceLbController } from './servicelb/controller';
import { parseAddressPool } from './servicelb/pool';
import { StorageProtectionController } from './storageprotection/controller';
import { DEFAULT_HPA_OPTIONS, HpaController, type HpaControllerOptions } from './hpa/controller';

export const ALL_CONTROLLERS = ['deployment', 'replicaset', 'endpoints', 'nodeipam', 'garbagecollector', 'nodelifecycle', 'tainteviction', 'disruption', 'cordon', 'csrapproving', 'csrsigning',
  'daemonset',
  'podgc',
  'statefulset',
  'persistentvolume-binder',
  'job',
  'cronjob',
  'resourcequota',
  'ingress-status',
  'endpointslice',
  'endpointslicemirroring',
  'servicelb',
  'storageprotection',
  'horizontalpodautoscaling',
] as const;

export interface ControllersOptions {
  kubeconfig: string;
  clusterCidr: string;
  nodeCidrMaskSize: number;
  bindAddress: string;
  port: number;
  /** Names from ALL_CONTROLLERS; `*` for all. */
  controllers: string[];
  /** --node-monitor-grace-period (default 8 s; see nodelifecycle/controller.ts for the cadence). */
  nodeMonitorGracePeriodMs: number;
  /** --node-monitor-period (default 1 s). */
  nodeMonitorPeriodMs?: number;
  /** Off (AlwaysLeader) when absent. */
  leaderElection?: LeaderElectionConfig;
  /** The cluster CA (PEM files) that signs approved CSRs; without it csrsigning signs nothing. */
  clusterSigning?: { certFile: string; keyFile: string };
  /** --terminated-pod-gc-threshold: finished pods kept before podgc deletes the oldest (default 12500; 0 keeps all). */
  terminatedPodGcThreshold?: number;
  /** --local-path-dir and --local-path-helper-image of the local-path provisioner (persistentvolume/local-path.ts). */
  localPath?: { dir?: string; helperImage?: string };
  /** --job-backoff-base: a Job's first pod re-creation delay after a failure (default 10 s). */
  jobBackoffBaseMs?: number;
  /** --max-endpoints-per-slice: endpoints per EndpointSlice before another is started (default 100, at most 1000). */
  maxEndpointsPerSlice?: number;
  /** --lb-address-pool: LoadBalancer addresses from this pool (servicelb/pool.ts) instead of node addresses. */
  lbAddressPool?: string;
  /** The --horizontal-pod-autoscaler-* flags (hpa/controller.ts DEFAULT_HPA_OPTIONS when absent). */
  hpa?: HpaControllerOptions;
  logger?: Logger;
}

export type { RunningControlLoops as RunningControllers } from '../lib/control-loops';

/**
 * Builds the client, shared informers, event recorder and metrics, starts the
 * health server, then (once leader) starts the informers and every enabled
 * controller. Informers retry the apiserver forever with capped backoff, so
 * this survives the apiserver starting late or restarting.
 */
export async function startControllers(o: ControllersOptions): Promise<RunningControlLoops> {
  const logger = o.logger ?? createLogger('controllers');
  const cluster = parseCidr(o.clusterCidr);
  if (!cluster) throw new Error(`--cluster-cidr: invalid CIDR ${JSON.stringify(o.clusterCidr)}`);
  if (!Number.isInteger(o.nodeCidrMaskSize) || o.nodeCidrMaskSize < cluster.prefix || o.nodeCidrMaskSize > 30) {
    throw new Error(`--node-cidr-mask-size: /${o.nodeCidrMaskSize} does not fit in ${o.clusterCidr}`);
  }
  const lbPool = o.lbAddressPool ? parseAddressPool(o.lbAddressPool) : undefined;
  const enabled = new Set(o.controllers.includes('*') ? ALL_CONTROLLERS : o.controllers);
  for (const n of enabled) if (!(ALL_CONTROLLERS as readonly string[]).includes(n)) throw new Error(`--controllers: unknown controller ${JSON.stringify(n)} (known: ${ALL_CONTROLLERS.join(', ')})`);

  const client = ApiClient.fromKubeconfig(o.kubeconfig);
  const registry = new Registry();
  const metrics = new ControllerMetrics(registry, { defaults: true });
  const informers = new SharedInformers(client, logger);
  const recorder = new EventRecorder(client, 'controller-manager', { host: os.hostname(), logger });
  const ctx: ControllerContext = { client, informers, recorder, logger, metrics, now: () => Date.now() };

  const controllers: RunnableController[] = [];
  if (enabled.has('deployment')) controllers.push(new DeploymentController(ctx));
  if (enabled.has('replicaset')) controllers.push(new ReplicaSetController(ctx));
  if (enabled.has('endpoints')) controllers.push(new EndpointsController(ctx));
  if (enabled.has('nodeipam')) controllers.push(new NodeIpamController(ctx, cluster, o.nodeCidrMaskSize));
  if (enabled.has('garbagecollector')) controllers.push(new GarbageCollector(ctx));
  if (enabled.has('nodelifecycle')) controllers.push(new NodeLifecycleController(ctx, { gracePeriodMs: o.nodeMonitorGracePeriodMs, monitorPeriodMs: o.nodeMonitorPeriodMs }));
  if (enabled.has('tainteviction')) controllers.push(new TaintEvictionController(ctx));
  const ca = o.clusterSigning && enabled.has('csrsigning')
    ? { cert: fs.readFileSync(o.clusterSigning.certFile, 'utf8'), key: fs.readFileSync(o.clusterSigning.keyFile, 'utf8') } : undefined;
  if (enabled.has('csrapproving') || ca) controllers.push(new CsrController(ctx, { approve: enabled.has('csrapproving'), ca }));
  if (enabled.has('disruption')) controllers.push(new DisruptionController(ctx));
  if (enabled.has('cordon')) controllers.push(new CordonTaintController(ctx));
  if (enabled.has('daemonset')) controllers.push(new DaemonSetController(ctx));
  if (enabled.has('podgc')) controllers.push(new PodGcController(ctx, { terminatedPodGcThreshold: o.terminatedPodGcThreshold ?? DEFAULT_TERMINATED_POD_GC_THRESHOLD }));
  if (enabled.has('statefulset')) controllers.push(new StatefulSetController(ctx));
  if (enabled.has('persistentvolume-binder')) controllers.push(new PersistentVolumeController(ctx, { localPathDir: o.localPath?.dir, helperImage: o.localPath?.helperImage }));
  if (enabled.has('job')) controllers.push(new JobController(ctx, { backoffBaseMs: o.jobBackoffBaseMs }));
  if (enabled.has('cronjob')) controllers.push(new CronJobController(ctx));
  if (enabled.has('resourcequota')) controllers.push(new ResourceQuotaController(ctx));
  if (enabled.has('ingress-status')) controllers.push(new IngressStatusController(ctx));
  if (enabled.has('endpointslice')) controllers.push(new EndpointSliceController(ctx, { maxEndpointsPerSlice: o.maxEndpointsPerSlice }));
  if (enabled.has('endpointslicemirroring')) controllers.push(new EndpointSliceMirroringController(ctx));
  if (enabled.has('servicelb')) controllers.push(new ServiceLbController(ctx, lbPool));
  if (enabled.has('storageprotection')) controllers.push(new StorageProtectionController(ctx));
  if (enabled.has('horizontalpodautoscaling')) controllers.push(new HpaController(ctx, o.hpa ?? DEFAULT_HPA_OPTIONS));

  logger.info({ address: o.bindAddress, port: o.port, controllers: controllers.map((c) => c.name) }, 'controllers starting');
  return startControlLoops({
    logger,
    elector: leaderElectorFor(o.leaderElection, client, 'kube-controller-manager', logger),
    bindAddress: o.bindAddress,
    port: o.port,
    registry,
    sync: () => informers.start(),
    run() {
      for (const c of controllers) c.start();
      logger.info('informers synced; controllers running');
    },
    async halt() {
      await Promise.all(controllers.map((c) => c.stop()));
      await informers.stop();
      await recorder.flush();
      client.close();
      logger.info('controllers stopped');
    },
  });
}

export function parseFlags(argv: string[]): ControllersOptions {
  const cmd = controlLoopCommand('controllers', 'Coxswain controller manager: deployment, replicaset, endpoints, node IPAM, garbage collector, node lifecycle, taint eviction, disruption, cordon taint, CSR approving and signing, daemonset, pod GC, statefulset, persistent volumes, job, cronjob, resourcequota, ingress status, service load balancer, storage object in use protection, endpointslice, endpointslice mirroring, horizontal pod autoscaler', '10257')
    .addOption(new Option('--cluster-cidr <cidr>', 'CIDR from which node podCIDRs are allocated').default('10.244.0.0/16'))
    .addOption(new Option('--node-cidr-mask-size <bits>', 'prefix length of each node podCIDR').default('24'))
    .addOption(new Option('--controllers <list>', `comma-separated controllers to run, or * (${ALL_CONTROLLERS.join(',')})`).default('*'))
    .addOption(new Option('--node-monitor-grace-period <duration>', 'silence of a node\'s Lease and Ready heartbeat after which it is marked Ready=Unknown (Kubernetes: 40s)').default(`${DEFAULT_NODE_MONITOR_GRACE_MS / 1000}s`))
    .addOption(new Option('--node-monitor-period <duration>', 'how often every node\'s health is checked (Kubernetes: 5s)').default(`${DEFAULT_NODE_MONITOR_PERIOD_MS / 1000}s`))
    .addOption(new Option('--cluster-signing-cert-file <file>', 'CA certificate (PEM) that signs approved kubelet and kube-apiserver-client CSRs'))
    .addOption(new Option('--cluster-signing-key-file <file>', 'key (PEM) of --cluster-signing-cert-file'))
    .addOption(new Option('--terminated-pod-gc-threshold <n>', 'finished pods kept before the oldest are deleted (0 keeps all)').default(String(DEFAULT_TERMINATED_POD_GC_THRESHOLD)))
    .addOption(new Option('--local-path-dir <dir>', 'directory on each node holding the volumes of the local-path provisioner').default(DEFAULT_LOCAL_PATH_DIR))
    .addOption(new Option('--local-path-helper-image <image>', 'image of the pod that removes a deleted local-path volume\'s directory').default(DEFAULT_HELPER_IMAGE))
    .addOption(new Option('--job-backoff-base <duration>', 'delay before a Job re-creates a failed pod; doubles per failure, at most 6m').default('10s'))
    .addOption(new Option('--lb-address-pool <pool>', 'LoadBalancer Services get one address each from these IPv4 CIDRs/ranges (a.b.c.d/n or a.b.c.d-e.f.g.h, comma-separated) instead of the addresses of their nodes').env('COXSWAIN_LB_ADDRESS_POOL'))
    .addOption(new Option('--max-endpoints-per-slice <n>', 'endpoints an EndpointSlice holds before another is started (1-1000)').default(String(DEFAULT_MAX_ENDPOINTS_PER_SLICE)))
    .addOption(new Option('--horizontal-pod-autoscaler-sync-period <duration>', 'how often each HorizontalPodAutoscaler is synced').default('15s').env('COXSWAIN_HPA_SYNC_PERIOD'))
    .addOption(new Option('--horizontal-pod-autoscaler-downscale-stabilization <duration>', 'an HPA scales down to the highest recommendation of this past window').default('5m').env('COXSWAIN_HPA_DOWNSCALE_STABILIZATION'))
    .addOption(new Option('--horizontal-pod-autoscaler-tolerance <ratio>', 'usage within this ratio of the target does not rescale').default('0.1'))
    .addOption(new Option('--horizontal-pod-autoscaler-cpu-initialization-period <duration>', 'after a pod starts, its CPU samples count only once it has been ready a whole window').default('5m').env('COXSWAIN_HPA_CPU_INITIALIZATION_PERIOD'))
    .addOption(new Option('--horizontal-pod-autoscaler-initial-readiness-delay <duration>', 'a pod unready this soon after starting has never been ready yet').default('30s'));
  cmd.parse(argv, { from: 'user' });
  const f = cmd.opts<Record<string, string>>();
  if (!!f.clusterSigningCertFile !== !!f.clusterSigningKeyFile) throw new Error('--cluster-signing-cert-file and --cluster-signing-key-file go together');
  const positive = (flag: string, text: string) => {
    let ms = 0;
    try {
      ms = parseDuration(text);
    } catch (err) {
      throw new Error(`${flag}: ${(err as Error).message}`);
    }
    if (!(ms > 0)) throw new Error(`${flag}: want a duration above 0, got ${JSON.stringify(text)}`);
    return ms;
  };
  return {
    clusterSigning: f.clusterSigningCertFile ? { certFile: f.clusterSigningCertFile, keyFile: f.clusterSigningKeyFile } : undefined,
    ...parseControlLoopFlags(f),
    clusterCidr: f.clusterCidr,
    localPath: { dir: f.localPathDir, helperImage: f.localPathHelperImage },
    nodeCidrMaskSize: Number(f.nodeCidrMaskSize),
    controllers: f.controllers.split(',').map((s) => s.trim()).filter(Boolean),
    nodeMonitorGracePeriodMs: positive('--node-monitor-grace-period', f.nodeMonitorGracePeriod),
    nodeMonitorPeriodMs: positive('--node-monitor-period', f.nodeMonitorPeriod),
    terminatedPodGcThreshold: parseThreshold(f.terminatedPodGcThreshold),
    jobBackoffBaseMs: parseDuration(f.jobBackoffBase),
    maxEndpointsPerSlice: parseMaxEndpointsPerSlice(f.maxEndpointsPerSlice),
    lbAddressPool: f.lbAddressPool,
    hpa: parseHpaFlags(f, positive),
  };
}

function parseHpaFlags(f: Record<string, string>, positive: (flag: string, text: string) => number): HpaControllerOptions {
  const nonNegative = (flag: string, text: string) => {
    try {
      return parseDuration(text);
    } catch (err) {
      throw new Error(`${flag}: ${(err as Error).message}`);
    }
  };
  const tolerance = Number(f.horizontalPodAutoscalerTolerance);
  if (!(tolerance >= 0)) throw new Error(`--horizontal-pod-autoscaler-tolerance: want a ratio of 0 or more, got ${JSON.stringify(f.horizontalPodAutoscalerTolerance)}`);
  return {
    syncPeriodMs: positive('--horizontal-pod-autoscaler-sync-period', f.horizontalPodAutoscalerSyncPeriod),
    downscaleStabilizationMs: nonNegative('--horizontal-pod-autoscaler-downscale-stabilization', f.horizontalPodAutoscalerDownscaleStabilization),
    tolerance,
    cpuInitializationPeriodMs: nonNegative('--horizontal-pod-autoscaler-cpu-initialization-period', f.horizontalPodAutoscalerCpuInitializationPeriod),
    delayOfInitialReadinessStatusMs: nonNegative('--horizontal-pod-autoscaler-initial-readiness-delay', f.horizontalPodAutoscalerInitialReadinessDelay),
  };
}

function parseMaxEndpointsPerSlice(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`--max-endpoints-per-slice: want an integer from 1 to 1000, got ${JSON.stringify(v)}`);
  return n;
}

function parseThreshold(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`--terminated-pod-gc-threshold: ${JSON.stringify(v)} is not an integer`);
  return n;
}

/** `coxswain controllers [flags]`: runs until SIGTERM/SIGINT, then stops cleanly. */
export async function main(argv: string[]): Promise<void> {
  const opts = parseFlags(argv);
  const logger = createLogger('controllers');
  const running = await startControllers({ ...opts, logger });
  await runUntilSignal(logger, () => running.stop());
}
