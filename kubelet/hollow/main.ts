import os from 'node:os';
import { Command } from 'commander';
import { parseCommand } from '../../lib/flags';
import { ApiClient } from '../../lib/client';
import { runUntilSignal } from '../../lib/daemon';
import { createLogger } from '../../lib/log';
import { goArch } from '../node-status';
import { HollowNodes } from './hollow';
import { hollowOptions, type HollowFlags, type HollowOptions } from './options';

/**
 * `coxswain hollow-nodes --count N --prefix P [...]`: N Nodes without Docker
 * in this one process (kubelet/hollow/hollow.ts), until SIGTERM/SIGINT.
 */
export function parseHollowFlags(argv: string[]): HollowOptions | undefined {
  const program = new Command('hollow-nodes')
    .description('Registers N hollow Nodes and plays kubelet for their pods (Running at once, no containers): for scale tests and trying scheduling rules')
    .requiredOption('--count <n>', 'how many nodes')
    .option('--prefix <p>', 'node names are <prefix><index>, index from 0', 'hollow-')
    .option('--labels <k=v,...>', 'labels for every node, besides kubernetes.io/hostname, os and arch')
    .option('--zones <z1,z2,...>', 'spread the nodes over these zones, round-robin by index (label topology.kubernetes.io/zone)')
    .option('--taints <k=v:Effect,...>', 'taints for every node')
    .option('--cpu <q>', 'CPU capacity (and allocatable)', '4')
    .option('--memory <q>', 'memory capacity (and allocatable)', '16Gi')
    .option('--pods <n>', 'pod capacity (at most 250)', '110')
    .option('--kubeconfig <file>', 'kubeconfig (default ~/.coxswain/kubeconfig)')
    .option('--lease-renew-interval <d>', 'how often each node renews its Lease', '2s')
    .option('--lease-duration-seconds <s>', "each node Lease's duration", '8')
    .option('--node-status-interval <d>', 'how often each node writes its full status', '60s')
    .option('--concurrency <n>', 'API writes in flight at once, for pods and for nodes each', '32')
    .option('--delete-nodes', 'delete the nodes (and their Leases) on SIGTERM/SIGINT')
    .exitOverride()
    .allowExcessArguments(false);
  if (!parseCommand(program, argv)) return undefined;
  try {
    return hollowOptions(program.opts<HollowFlags>());
  } catch (err) {
    process.stderr.write(`hollow-nodes: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return undefined;
  }
}

export async function main(argv: string[]): Promise<void> {
  const opts = parseHollowFlags(argv);
  if (!opts) return;
  const log = createLogger('hollow-nodes');
  const client = ApiClient.fromKubeconfig(opts.kubeconfig);
  const hollow = new HollowNodes(client, opts, log, { arch: goArch(os.arch()) });
  const done = runUntilSignal(log, async () => {
    await hollow.stop();
    client.close();
  });
  await hollow.start();
  log.info({ count: opts.count, prefix: opts.prefix }, 'hollow nodes running');
  await done;
}
