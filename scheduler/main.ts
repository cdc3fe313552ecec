import os from 'node:os';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { Option } from 'commander';
import { Registry } from 'prom-client';
import { ApiClient } from '../lib/client';
import { EventRecorder } from '../lib/events';
import { Informer } from '../lib/informer';
import { createLogger, type Logger } from '../lib/log';
import { NODES, PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, PODDISRUPTIONBUDGETS, PODS, STORAGE_CLASSES } from '../lib/resources';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import type { KubeObject } from '../lib/client';
import { startControlLoops, type RunningControlLoops } from '../lib/control-loops';
import { runUntilSignal } from '../lib/daemon';
import { controlLoopCommand, leaderElectorFor, parseControlLoopFlags, type LeaderElectionConfig } from '../lib/leader-election-flags';
import { SchedulerMetrics } from './metrics';
import { Scheduler } from './scheduler';
import { defaultPreemption } from './preempt';
import { defaultProfile } from './plugins/registry';

export interface SchedulerProcessOptions {
  kubeconfig: string;
  bindAddress: string;
  port: number;
  schedulerName: string;
  /** Off (AlwaysLeader) when absent. */
  leaderElection?: LeaderElectionConfig;
  logger?: Logger;
}

/** Starts informers on pods and nodes, the scheduling loop and /healthz+/metrics. */
export async function startScheduler(o: SchedulerProcessOptions): Promise<RunningControlLoops> {
  const logger = o.logger ?? createLogger('scheduler');
  const client = ApiClient.fromKubeconfig(o.kubeconfig);
  const registry = new Registry();
  const pods = new Informer<Pod>(client, PODS, { logger });
  const nodes = new Informer<Node>(client, NODES, { logger });
  const claims = new Informer<PersistentVolumeClaim & KubeObject>(client, PERSISTENT_VOLUME_CLAIMS, { logger });
  const volumes = new Informer<PersistentVolume & KubeObject>(client, PERSISTENT_VOLUMES, { logger });
  const classes = new Informer<StorageClass & KubeObject>(client, STORAGE_CLASSES, { logger });
  const pdbs = new Informer<PodDisruptionBudget & KubeObject>(client, PODDISRUPTIONBUDGETS, { logger });
  const recorder = new EventRecorder(client, 'default-scheduler', { host: os.hostname(), logger });
  let scheduler: Scheduler | undefined = undefined;
  const metrics = new SchedulerMetrics(registry, { defaults: true, pending: () => scheduler?.pendingCounts ?? { active: 0, unschedulable: 0 } });
  const volumeLister = { claim: (ns: string, n: string) => claims.get(`${ns}/${n}`), volume: (n: string) => volumes.get(n), volumes: () => volumes.list(), storageClass: (n: string | undefined) => (n ? classes.get(n) : undefined) };
  const profile = defaultProfile(volumeLister);
  scheduler = new Scheduler({
    client, pods, nodes, recorder, logger, metrics, schedulerName: o.schedulerName, profile, volumes: volumeLister,
    postFilter: defaultPreemption({ client, recorder, logger, profile, pdbs: () => pdbs.list(), pods: () => pods.list() }),
  });
  const s = scheduler;
  for (const inf of [claims, volumes, classes] as Informer<KubeObject>[]) inf.on({ add: () => s.volumesChanged(), update: () => s.volumesChanged() });
  logger.info({ address: o.bindAddress, port: o.port }, 'scheduler starting');
  return startControlLoops({
    logger,
    elector: leaderElectorFor(o.leaderElection, client, 'kube-scheduler', logger),
    bindAddress: o.bindAddress,
    port: o.port,
    registry,
    sync: () => Promise.all([nodes.start(), pods.start(), claims.start(), volumes.start(), classes.start(), pdbs.start()]).then(() => undefined),
    run() {
      s.start();
      logger.info('informers synced; scheduling');
    },
    async halt() {
      await s.stop();
      await Promise.all([pods.stop(), nodes.stop(), claims.stop(), volumes.stop(), classes.stop(), pdbs.stop()]);
      await recorder.flush();
      client.close();
    },
  });
}

export function parseFlags(argv: string[]): SchedulerProcessOptions {
  const cmd = controlLoopCommand('scheduler', 'Coxswain scheduler: binds unscheduled pods to nodes', '10259')
    .addOption(new Option('--scheduler-name <name>', 'pods with this spec.schedulerName (or none) are scheduled').default('default-scheduler'));
  cmd.parse(argv, { from: 'user' });
  const f = cmd.opts<Record<string, string>>();
  return { ...parseControlLoopFlags(f), schedulerName: f.schedulerName };
}

/** `coxswain scheduler [flags]`: runs until SIGTERM/SIGINT, then stops cleanly. */
export async function main(argv: string[]): Promise<void> {
  const opts = parseFlags(argv);
  const logger = createLogger('scheduler');
  const running = await startScheduler({ ...opts, logger });
  await runUntilSignal(logger, () => running.stop());
}
