import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Command, Option } from 'commander';
import type { ApiClient } from './client';
import { parseDuration } from './duration';
import { parsePort } from './flags';
import { defaultKubeconfigPath } from './kubeconfig';
import { AlwaysLeader, type LeaderElector } from './leader';
import { apiLeaseClient, LeaseElector } from './leader-election';
import type { Logger } from './log';

/** The `--leader-elect*` flags of kube-scheduler and kube-controller-manager. */
export interface LeaderElectionConfig {
  leaderElect: boolean;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** Adds the flags, with Kubernetes' defaults except `--leader-elect` (off until multi-host turns it on). */
export function addLeaderElectionFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('--leader-elect [bool]', 'run only while holding the leader Lease (for running several replicas)').default('false').preset('true'))
    .addOption(new Option('--leader-elect-lease-duration <duration>', 'how long non-leaders wait after the last renewal before taking over').default('15s'))
    .addOption(new Option('--leader-elect-renew-deadline <duration>', 'how long the leader retries a renewal before giving up (< lease duration)').default('10s'))
    .addOption(new Option('--leader-elect-retry-period <duration>', 'interval between attempts to acquire or renew').default('2s'));
}

/**
 * The command line kube-scheduler and kube-controller-manager share: `--kubeconfig`,
 * `--bind-address` and `--port` of the health/metrics server, and the leader-election flags.
 * A process adds its own options to what this returns.
 */
export function controlLoopCommand(name: string, description: string, defaultPort: string): Command {
  return addLeaderElectionFlags(
    new Command(name)
      .description(description)
      .addOption(new Option('--kubeconfig <file>', 'kubeconfig to reach the apiserver').env('KUBECONFIG').default(defaultKubeconfigPath()))
      .addOption(new Option('--bind-address <ip>', 'address for /healthz and /metrics').default('127.0.0.1'))
      .addOption(new Option('--port <port>', 'port for /healthz and /metrics (0: any free port)').default(defaultPort)),
  )
    .exitOverride()
    .allowExcessArguments(false);
}

/** Reads the flags `controlLoopCommand` adds. */
export function parseControlLoopFlags(f: Record<string, string>): { kubeconfig: string; bindAddress: string; port: number; leaderElection: LeaderElectionConfig } {
  return { kubeconfig: f.kubeconfig, bindAddress: f.bindAddress, port: parsePort(f.port), leaderElection: parseLeaderElectionFlags(f) };
}

/** Reads the flags added by `addLeaderElectionFlags`; throws when the durations are inconsistent (as client-go does). */
export function parseLeaderElectionFlags(f: Record<string, string>): LeaderElectionConfig {
  const on = String(f.leaderElect);
  if (!['true', 'false'].includes(on)) throw new Error(`--leader-elect: expected true or false, got ${JSON.stringify(on)}`);
  const c: LeaderElectionConfig = {
    leaderElect: on === 'true',
    leaseDurationMs: parseDuration(f.leaderElectLeaseDuration),
    renewDeadlineMs: parseDuration(f.leaderElectRenewDeadline),
    retryPeriodMs: parseDuration(f.leaderElectRetryPeriod),
  };
  if (c.leaseDurationMs <= c.renewDeadlineMs) throw new Error('--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline');
  if (c.renewDeadlineMs <= c.retryPeriodMs * 1.2) throw new Error('--leader-elect-renew-deadline must be greater than 1.2 × --leader-elect-retry-period');
  if (c.retryPeriodMs <= 0) throw new Error('--leader-elect-retry-period must be positive');
  return c;
}

/** A LeaseElector on kube-system/<leaseName> when enabled (and `client`'s writes fenced by it), else AlwaysLeader. */
export function leaderElectorFor(config: LeaderElectionConfig | undefined, client: ApiClient, leaseName: string, logger: Logger): LeaderElector {
  if (!config?.leaderElect) return new AlwaysLeader();
  const elector = new LeaseElector({
    client: apiLeaseClient(client, config.renewDeadlineMs / 2),
    namespace: 'kube-system',
    name: leaseName,
    identity: `${os.hostname()}_${randomUUID()}`,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    logger,
  });
  // Every write of this process (bindings, status, events) waits for a fresh lease; only the Lease's own requests pass.
  client.fenceWrites(() => elector.leading(), `not holding the ${leaseName} leader Lease`);
  return elector;
}
