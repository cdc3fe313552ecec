import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseDuration as parseGoDuration } from '../lib/duration';
import { ApiClient } from '../lib/client';
import { defaultKubeconfigPath } from '../lib/kubeconfig';
import { runUntilSignal } from '../lib/daemon';
import { createLogger } from '../lib/log';
import { DockerRuntime } from './docker-runtime';
import { validateImageGCPolicy } from './gc';
import { Kubelet } from './kubelet';
import { KubeletMetrics } from './metrics';
import type { NodeFacts } from './node-status';

/** First non-internal IPv4 address that is not a container bridge, else 127.0.0.1. */
export function defaultNodeIP(ifaces = os.networkInterfaces()): string {
  const skip = /^(docker\d*|br-|veth|cni|flannel|virbr)/;
  for (const [name, addrs] of Object.entries(ifaces)) {
    if (skip.test(name)) continue;
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Pod volume directories: under COXSWAIN_HOME when set, else /var/lib/coxswain/kubelet. */
export function defaultRootDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.COXSWAIN_HOME ? path.join(env.COXSWAIN_HOME, 'kubelet') : '/var/lib/coxswain/kubelet';
}

/** A duration flag ("10s", "500ms", "1m30s", bare seconds) → milliseconds, as commander wants its errors. */
export function parseDuration(s: string): number {
  try {
    return parseGoDuration(s);
  } catch {
    throw new InvalidArgumentError(`not a duration: ${s}`);
  }
}

function int(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`not a non-negative integer: ${s}`);
  return n;
}

/** An integer ≥ -1 (-1 = no limit). */
function limit(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < -1) throw new InvalidArgumentError(`not an integer ≥ -1: ${s}`);
  return n;
}

function percent(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new InvalidArgumentError(`not an integer percentage in [0, 100]: ${s}`);
  return n;
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

/** The kubelet API settings from the flags: needs all of the certificate, key and client CA. */
function kubeletApi(o: { port: number; address: string; tlsCertFile?: string; tlsPrivateKeyFile?: string; clientCaFile?: string }) {
  const given = [o.tlsCertFile, o.tlsPrivateKeyFile, o.clientCaFile].filter(Boolean).length;
  if (given === 0) return undefined;
  if (given !== 3) throw new Error('the kubelet API needs --tls-cert-file, --tls-private-key-file and --client-ca-file together');
  return {
    host: o.address,
    port: o.port,
    tls: { cert: readFileSync(o.tlsCertFile!), key: readFileSync(o.tlsPrivateKeyFile!), ca: readFileSync(o.clientCaFile!) },
  };
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('kubelet')
    .description('Runs the pods bound to this node on Docker')
    .option('--kubeconfig <file>', 'kubeconfig to reach the apiserver', defaultKubeconfigPath())
    .option('--node-name <name>', 'name of this node', os.hostname().toLowerCase())
    .option('--node-ip <ip>', 'IP address of this node', defaultNodeIP())
    .option('--docker-socket <path>', 'Docker Engine socket', '/var/run/docker.sock')
    .option('--healthz-port <port>', 'port of /healthz and /metrics (0 = any free port)', int, 10248)
    .option('--healthz-bind-address <ip>', 'address of /healthz and /metrics', '127.0.0.1')
    .option('--max-pods <n>', 'pods this node can run (capacity)', int, 110)
    .option('--no-tmpfs-volumes', "write secret and projected volumes to disk instead of tmpfs (a kubelet in a container of its own: the host's Docker does not see its mounts)")
    .option('--seccomp-default', "use the runtime's default seccomp profile (RuntimeDefault) for pods and containers that name none, instead of Unconfined", false)
    .option('--network-prefix <prefix>', 'pod network name prefix (network is <prefix>-<node-name>, the alias of its bridge device)', 'coxswain')
    .option('--port <port>', 'port of the kubelet API (gRPC, mutual TLS; 0 = any free port)', int, 10250)
    .option('--address <ip>', 'address of the kubelet API', '0.0.0.0')
    .option('--tls-cert-file <file>', 'serving certificate of the kubelet API (PEM); without it the API is off')
    .option('--tls-private-key-file <file>', 'key of --tls-cert-file (PEM)')
    .option('--client-ca-file <file>', 'CA whose client certificates may call the kubelet API (PEM)')
    .addOption(new Option('--sync-frequency <duration>', 'interval of the full pod resync').argParser(parseDuration).default(5_000, '5s'))
    .option('--root-dir <dir>', 'directory of pod volumes (default /var/lib/coxswain/kubelet, or $COXSWAIN_HOME/kubelet when COXSWAIN_HOME is set)', defaultRootDir())
    .addOption(new Option('--heartbeat-frequency <duration>', 'interval of node status heartbeats').argParser(parseDuration).default(10_000, '10s'))
    .option('--maximum-dead-containers-per-container <n>', 'dead instances kept per container (-1 = no limit)', limit, 1)
    .option('--maximum-dead-containers <n>', 'dead containers kept on this node in all (-1 = no limit)', limit, -1)
    .addOption(new Option('--minimum-container-ttl-duration <duration>', 'minimum age of a dead container before it may be removed').argParser(parseDuration).default(0, '0s'))
    .addOption(new Option('--container-gc-period <duration>', 'interval of dead-container GC (Coxswain; Kubernetes: fixed 1m)').argParser(parseDuration).default(60_000, '1m'))
    .option('--image-gc-high-threshold <percent>', 'image filesystem usage at or above which image GC runs (100 disables it)', percent, 85)
    .option('--image-gc-low-threshold <percent>', 'image filesystem usage image GC frees down to', percent, 80)
    .addOption(new Option('--minimum-image-ttl-duration <duration>', 'minimum age of an unused image before it may be removed').argParser(parseDuration).default(120_000, '2m'))
    .addOption(new Option('--image-gc-period <duration>', 'interval of image GC (Coxswain; Kubernetes: fixed 5m)').argParser(parseDuration).default(300_000, '5m'))
    .addOption(
      new Option('--shutdown-grace-period <duration>', 'on SIGTERM, stop every pod within this time and mark them Failed before exiting (graceful node shutdown); 0 leaves containers running')
        .argParser(parseDuration)
        .default(0, '0s'),
    )
    .exitOverride()
    .allowExcessArguments(false);
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed the help or the error.
      if (err.code !== 'commander.helpDisplayed' && err.code !== 'commander.help') process.exitCode = err.exitCode || 2;
      return;
    }
    throw err;
  }
  const o = program.opts<{
    kubeconfig: string;
    nodeName: string;
    nodeIp: string;
    dockerSocket: string;
    healthzPort: number;
    healthzBindAddress: string;
    maxPods: number;
    seccompDefault: boolean;
    tmpfsVolumes: boolean;
    networkPrefix: string;
    syncFrequency: number;
    heartbeatFrequency: number;
    port: number;
    address: string;
    tlsCertFile?: string;
    tlsPrivateKeyFile?: string;
    clientCaFile?: string;
    maximumDeadContainersPerContainer: number;
    maximumDeadContainers: number;
    minimumContainerTtlDuration: number;
    containerGcPeriod: number;
    imageGcHighThreshold: number;
    imageGcLowThreshold: number;
    minimumImageTtlDuration: number;
    imageGcPeriod: number;
    shutdownGracePeriod: number;
  }>();
  try {
    validateImageGCPolicy({ highThresholdPercent: o.imageGcHighThreshold, lowThresholdPercent: o.imageGcLowThreshold, minAgeMs: o.minimumImageTtlDuration });
  } catch (err) {
    process.stderr.write(`kubelet: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }

  const log = createLogger('kubelet', { node: o.nodeName });
  const client = ApiClient.fromKubeconfig(o.kubeconfig);
  const runtime = DockerRuntime.fromSocket(o.dockerSocket, log.child({ part: 'docker' }));
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
    facts,
    log,
    metrics,
    networkPrefix: o.networkPrefix,
    syncFrequencyMs: o.syncFrequency,
    heartbeatMs: o.heartbeatFrequency,
    rootDir: (o as { rootDir?: string }).rootDir,
    healthz: { port: o.healthzPort, host: o.healthzBindAddress },
    api: kubeletApi(o),
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
    tmpfsVolumes: o.tmpfsVolumes,
  });

  // Handlers first: a signal while registering (apiserver down) still stops cleanly.
  const stopped = runUntilSignal(
    log,
    async () => {
      log.info(o.shutdownGracePeriod > 0 ? 'stopping (graceful node shutdown: pods are stopped first)' : 'stopping (containers keep running)');
      await kubelet.shutdown();
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
