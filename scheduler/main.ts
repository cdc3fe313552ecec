import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1';
import { Option } from 'commander';
import { Registry } from 'prom-client';
import { ApiClient } from '../lib/client';
import { EventRecorder } from '../lib/events';
import { Informer, stripManagedFields } from '../lib/informer';
import { createLogger, type Logger } from '../lib/log';
import { NAMESPACES, NODES, PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, PODDISRUPTIONBUDGETS, PODS, STORAGE_CLASSES } from '../lib/resources';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import type { KubeObject } from '../lib/client';
import { startControlLoops, type RunningControlLoops } from '../lib/control-loops';
import { runUntilSignal } from '../lib/daemon';
import { controlLoopCommand, leaderElectorFor, parseControlLoopFlags, type LeaderElectionConfig } from '../lib/leader-election-flags';
import { ConfigError, defaultSchedulerConfig, parseSchedulerConfig, type PluginCatalog, type SchedulerConfig } from './config';
import { SchedulerMetrics } from './metrics';
import { defaultProfile, pluginNamed } from './plugins/registry';
import type { VolumeLister } from './plugins/volumeBinding';
import { Scheduler } from './scheduler';
import { defaultPreemption, type PostFilter } from './preempt';

export interface SchedulerProcessOptions {
  kubeconfig: string;
  bindAddress: string;
  port: number;
  schedulerName: string;
  /** A KubeSchedulerConfiguration (YAML), already checked by parseFlags; its profiles replace `schedulerName`. */
  config?: { path: string; text: string };
  /** Off (AlwaysLeader) when absent. */
  leaderElection?: LeaderElectionConfig;
  logger?: Logger;
}

/** Starts informers on pods and nodes, the scheduling loop and /healthz+/metrics. */
export async function startScheduler(o: SchedulerProcessOptions): Promise<RunningControlLoops> {
  const logger = o.logger ?? createLogger('scheduler');
  const client = ApiClient.fromKubeconfig(o.kubeconfig);
  const registry = new Registry();
  // kube-scheduler's informers drop managedFields too: never read here, often half a pod's size.
  const pods = new Informer<Pod>(client, PODS, { logger, transform: stripManagedFields });
  const nodes = new Informer<Node>(client, NODES, { logger, transform: stripManagedFields });
  const claims = new Informer<PersistentVolumeClaim & KubeObject>(client, PERSISTENT_VOLUME_CLAIMS, { logger });
  const volumes = new Informer<PersistentVolume & KubeObject>(client, PERSISTENT_VOLUMES, { logger });
  const classes = new Informer<StorageClass & KubeObject>(client, STORAGE_CLASSES, { logger });
  const namespaces = new Informer<Namespace & KubeObject>(client, NAMESPACES, { logger });
  const pdbs = new Informer<PodDisruptionBudget & KubeObject>(client, PODDISRUPTIONBUDGETS, { logger });
  const lister: VolumeLister = { claim: (ns, n) => claims.get(`${ns}/${n}`), volume: (n) => volumes.get(n), volumes: () => volumes.list(), storageClass: (n) => (n ? classes.get(n) : undefined) };
  const config = schedulerConfig(o, lister);
  for (const w of config.warnings) logger.warn({ config: o.config?.path }, w);
  const recorder = new EventRecorder(client, 'default-scheduler', { host: os.hostname(), logger });
  let scheduler: Scheduler | undefined = undefined;
  const metrics = new SchedulerMetrics(registry, {
    defaults: true,
    pending: () => scheduler?.pendingCounts ?? { active: 0, backoff: 0, unschedulable: 0 },
    bindingsInFlight: () => scheduler?.bindingsInFlight ?? 0,
  });
  scheduler = new Scheduler({
    client, pods, nodes, namespaces, recorder, logger, metrics, volumes: lister,
    profiles: config.profiles,
    percentageOfNodesToScore: config.percentageOfNodesToScore,
    initialBackoffMs: config.podInitialBackoffSeconds !== undefined ? config.podInitialBackoffSeconds * 1000 : undefined,
    maxBackoffMs: config.podMaxBackoffSeconds !== undefined ? config.podMaxBackoffSeconds * 1000 : undefined,
    postFilter: preemptionByProfile(config, (profile) => defaultPreemption({ client, recorder, logger, profile, pdbs: () => pdbs.list(), pods: () => pods.list() })),
  });
  const s = scheduler;
  for (const inf of [claims, volumes, classes] as Informer<KubeObject>[]) inf.on({ add: () => s.volumesChanged(), update: () => s.volumesChanged() });
  logger.info({ address: o.bindAddress, port: o.port, profiles: config.profiles.map((p) => p.schedulerName) }, 'scheduler starting');
  return startControlLoops({
    logger,
    elector: leaderElectorFor(o.leaderElection, client, 'kube-scheduler', logger),
    bindAddress: o.bindAddress,
    port: o.port,
    registry,
    sync: () => Promise.all([nodes.start(), pods.start(), claims.start(), volumes.start(), classes.start(), namespaces.start(), pdbs.start()]).then(() => undefined),
    run() {
      s.start();
      logger.info('informers synced; scheduling');
    },
    async halt() {
      await s.stop();
      await Promise.all([pods.stop(), nodes.stop(), claims.stop(), volumes.stop(), classes.stop(), namespaces.stop(), pdbs.stop()]);
      await recorder.flush();
      client.close();
    },
  });
}

/** The profiles to run: from the config file, or one default profile named `schedulerName`. */
function schedulerConfig(o: Pick<SchedulerProcessOptions, 'config' | 'schedulerName'>, volumes?: VolumeLister): SchedulerConfig {
  const catalog: PluginCatalog = { defaults: defaultProfile(volumes), named: (n) => pluginNamed(n, volumes) };
  return o.config ? parseSchedulerConfig(o.config.text, catalog) : defaultSchedulerConfig(catalog, o.schedulerName);
}

const NO_VOLUMES: VolumeLister = { claim: () => undefined, volume: () => undefined, volumes: () => [], storageClass: () => undefined };

/** Parses the command line and checks the config file; a bad file is an error naming the field (exit 2). */
export function parseFlags(argv: string[]): SchedulerProcessOptions {
  const cmd = controlLoopCommand('scheduler', 'Coxswain scheduler: binds unscheduled pods to nodes', '10259')
    .addOption(new Option('--scheduler-name <name>', 'pods with this spec.schedulerName (or none) are scheduled (without --config)').default('default-scheduler'))
    .addOption(new Option('--config <file>', 'a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): profiles by schedulerName, their plugins and percentageOfNodesToScore'));
  cmd.parse(argv, { from: 'user' });
  const f = cmd.opts<Record<string, string>>();
  const opts: SchedulerProcessOptions = { ...parseControlLoopFlags(f), schedulerName: f.schedulerName };
  if (f.config === undefined) return opts;
  if (cmd.getOptionValueSource('schedulerName') === 'cli') cmd.error('error: --scheduler-name cannot be used with --config: name the profiles in the config file', { exitCode: 2, code: 'commander.conflictingOption' });
  let text = '';
  try {
    text = readFileSync(f.config, 'utf8');
  } catch (err) {
    cmd.error(`error: --config ${f.config}: ${(err as Error).message}`, { exitCode: 2, code: 'commander.invalidArgument' });
  }
  opts.config = { path: f.config, text };
  try {
    schedulerConfig(opts, NO_VOLUMES);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    cmd.error(`error: --config ${f.config}: ${err.message}`, { exitCode: 2, code: 'commander.invalidArgument' });
  }
  return opts;
}

/** `coxswain scheduler [flags]`: runs until SIGTERM/SIGINT, then stops cleanly. */
export async function main(argv: string[]): Promise<void> {
  const opts = parseFlags(argv);
  const logger = createLogger('scheduler');
  const running = await startScheduler({ ...opts, logger });
  await runUntilSignal(logger, () => running.stop());
}

/** DefaultPreemption for each profile (it re-runs that profile's filters), chosen by the pod's schedulerName. */
function preemptionByProfile(config: SchedulerConfig, make: (profile: SchedulerConfig['profiles'][number]['profile']) => PostFilter): PostFilter {
  const byName = new Map(config.profiles.map((p) => [p.schedulerName, make(p.profile)] as const));
  return async (pod, result, snapshot) => byName.get(pod.spec?.schedulerName ?? 'default-scheduler')?.(pod, result, snapshot);
}
