import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { Command } from 'commander';
import { parseCommand } from '../lib/flags';
import { ApiClient } from '../lib/client';
import { realClock } from '../lib/clock';
import { runUntilSignal } from '../lib/daemon';
import { startHealthServer } from '../lib/health';
import { createLogger, type Logger } from '../lib/log';
import { DockerRuntime } from './docker-runtime';
import { addFlags, kubeletFlags, type KubeletFlags } from './flags';
import { validateImageGCPolicy } from './gc';
import { Kubelet } from './kubelet';
import { KubeletMetrics } from './metrics';
import type { NodeFacts } from './node-status';
import { BridgePodNetwork } from './pod-network';
import { KubeletServer } from './server/server';

/**
 * `coxswain kubelet [flags]`: parses the flags (flags.ts), builds every adapter
 * (Docker runtime, API client, pod network, kubelet API server, metrics, health
 * server, logger, clock), hands them to `Kubelet` (kubelet.ts) and runs until
 * SIGTERM/SIGINT.
 *
 * Where things are (README.md has the whole map): a pod's sync is one pipeline in
 * sync-pod.ts (observe, plan with pod-sync.ts, act, report); its sandbox starts in
 * sandbox-start.ts, its containers in container-start.ts; pod-manager.ts queues the
 * syncs; docker-runtime.ts is the only module that talks to Docker.
 */

/** The flags, or undefined when commander printed help or an error (process.exitCode set) or a check failed. */
export function parseFlags(argv: string[]): KubeletFlags | undefined {
  const program = addFlags(new Command('kubelet').description('Runs the pods bound to this node on Docker'), kubeletFlags())
    .exitOverride()
    .allowExcessArguments(false);
  if (!parseCommand(program, argv)) return undefined;
  const o = program.opts<KubeletFlags>();
  try {
    validateImageGCPolicy({ highThresholdPercent: o.imageGcHighThreshold, lowThresholdPercent: o.imageGcLowThreshold, minAgeMs: o.minimumImageTtlDuration });
  } catch (err) {
    process.stderr.write(`kubelet: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return undefined;
  }
  return o;
}

function osImage(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
    if (m) return m[1];
  } catch {
    // fall through
  }
  return `${os.type()} ${os.release()}`;
}

function rootFsBytes(): number {
  try {
    const s = statfsSync('/');
    return s.blocks * s.bsize;
  } catch {
    return 0;
  }
}

/** The kubelet API server, when the flags name all of its certificate, key and client CA; none of them: off. */
function kubeletApiServer(o: KubeletFlags, runtime: DockerRuntime, log: Logger): KubeletServer | undefined {
  const given = [o.tlsCertFile, o.tlsPrivateKeyFile, o.clientCaFile].filter(Boolean).length;
  if (given === 0) return undefined;
  if (!o.tlsCertFile || !o.tlsPrivateKeyFile || !o.clientCaFile) throw new Error('the kubelet API needs --tls-cert-file, --tls-private-key-file and --client-ca-file together');
  return new KubeletServer({
    runtime,
    nodeName: o.nodeName,
    nodeIP: o.nodeIp,
    log,
    host: o.address,
    port: o.port,
    tls: { cert: readFileSync(o.tlsCertFile), key: readFileSync(o.tlsPrivateKeyFile), ca: readFileSync(o.clientCaFile) },
  });
}

export async function main(argv: string[]): Promise<void> {
  const o = parseFlags(argv);
  if (!o) return;

  const log = createLogger('kubelet', { node: o.nodeName });
  const client = ApiClient.fromKubeconfig(o.kubeconfig);
  const runtime = DockerRuntime.fromSocket(o.dockerSocket, log.child({ part: 'docker' }));
  const api = kubeletApiServer(o, runtime, log.child({ part: 'api' }));
  const runtimeVersion = await runtime.version();
  const facts: NodeFacts = {
    name: o.nodeName,
    ip: o.nodeIp,
    hostname: os.hostname(),
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    storageBytes: rootFsBytes(),
    maxPods: o.maxPods,
    runtimeVersion,
    osImage: osImage(),
    kernelVersion: os.release(),
    arch: process.arch,
  };
  const metrics = new KubeletMetrics({ defaultMetrics: true });
  const kubelet = new Kubelet({
    client,
    runtime,
    network: new BridgePodNetwork(`${o.networkPrefix}-${o.nodeName}`, log.child({ part: 'network' }), { clusterCIDR: o.clusterCidr }),
    routeSyncPeriodMs: o.routeSyncPeriod,
    api,
    facts,
    log,
    metrics,
    clock: realClock,
    syncFrequencyMs: o.syncFrequency,
    heartbeatMs: o.heartbeatFrequency ?? o.nodeStatusUpdateFrequency,
    leaseRenewMs: o.nodeLeaseRenewInterval,
    leaseDurationSeconds: o.nodeLeaseDurationSeconds,
    rootDir: o.rootDir,
    containerGC: {
      maxPerPodContainer: o.maximumDeadContainersPerContainer,
      maxContainers: o.maximumDeadContainers,
      minAgeMs: o.minimumContainerTtlDuration,
      periodMs: o.containerGcPeriod,
    },
    imageGC: {
      highThresholdPercent: o.imageGcHighThreshold,
      lowThresholdPercent: o.imageGcLowThreshold,
      minAgeMs: o.minimumImageTtlDuration,
      periodMs: o.imageGcPeriod,
    },
    shutdownGracePeriodMs: o.shutdownGracePeriod,
    seccompDefault: o.seccompDefault,
    clusterDns: o.clusterDns ? { servers: o.clusterDns.split(','), domain: o.clusterDomain } : undefined,
    tmpfsVolumes: o.tmpfsVolumes,
    tmpfsRoot: o.tmpfsRoot,
  });
  const health = await startHealthServer({ host: o.healthzBindAddress, port: o.healthzPort, registry: metrics.registry, ready: () => kubelet.ready });
  log.info({ address: health.server.address() }, 'healthz listening');

  // Handlers first: a signal while registering (apiserver down) still stops cleanly.
  const stopped = runUntilSignal(
    log,
    async () => {
      log.info(o.shutdownGracePeriod > 0 ? 'stopping (graceful node shutdown: pods are stopped first)' : 'stopping (containers keep running)');
      await kubelet.shutdown();
      await health.close();
      client.close();
    },
    { graceMs: o.shutdownGracePeriod + 20_000 },
  );
  log.info({ nodeIP: o.nodeIp, runtime: runtimeVersion, maxPods: o.maxPods }, 'kubelet starting');
  await kubelet.start();
  await stopped;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`kubelet: ${err.message}\n`);
    process.exit(1);
  });
}
