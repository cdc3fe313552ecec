import { Command } from 'commander';
import { runUntilSignal } from '../lib/daemon';
import { createLogger } from '../lib/log';
import { resolveConfig, type StoreFlags } from './config';
import { startStore } from './server/start';

/**
 * `coxswain store`: one replica of the Raft-replicated, etcd-v3-compatible store.
 * Flags follow etcd's names. Resolves once the member is serving; SIGTERM/SIGINT
 * stop it cleanly.
 */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('coxswain store')
    .description('Raft-replicated key-value store speaking the etcd v3 gRPC API')
    .option('--name <name>', 'human-readable member name', 'default')
    .option('--data-dir <dir>', 'data directory (default: <name>.etcd)')
    .option('--listen-client-urls <urls>', 'URLs to serve clients on (comma-separated)', 'http://localhost:2379')
    .option('--advertise-client-urls <urls>', 'client URLs published to the cluster (default: listen URLs)')
    .option('--listen-peer-urls <url>', 'URL to serve peers on', 'http://localhost:2380')
    .option('--initial-advertise-peer-urls <urls>', "this member's peer URLs as listed in --initial-cluster (default: listen peer URL)")
    .option('--initial-cluster <list>', 'name=peerURL,... for every member (default: this member alone)')
    .option('--initial-cluster-state <state>', 'new or existing', 'new')
    .option('--initial-cluster-token <token>', 'cluster token (makes ids unique per cluster)', 'etcd-cluster')
    .option('--heartbeat-interval <ms>', 'Raft tick / heartbeat interval in ms', '100')
    .option('--election-timeout <ms>', 'election timeout in ms', '1000')
    .option('--listen-metrics-urls <url>', 'serve /metrics and /health over HTTP here')
    .option('--watch-progress-notify-interval <ms>', 'interval of watch progress notifications in ms', '600000')
    .option('--snapshot-count <n>', 'applied entries between snapshots of the state (the log is compacted after each)', '10000')
    .option('--cert-file <file>', 'client TLS: serving certificate (PEM) for https:// client URLs')
    .option('--key-file <file>', 'client TLS: key of --cert-file (PEM)')
    .option('--trusted-ca-file <file>', 'client TLS: CA that signs client certificates (PEM)')
    .option('--client-cert-auth', 'client TLS: require a client certificate signed by --trusted-ca-file')
    .option('--peer-cert-file <file>', 'peer TLS: certificate (PEM; server and client auth) for https:// peer URLs')
    .option('--peer-key-file <file>', 'peer TLS: key of --peer-cert-file (PEM)')
    .option('--peer-trusted-ca-file <file>', 'peer TLS: CA that signs the peers\' certificates (PEM)')
    .option('--peer-client-cert-auth', 'peer TLS: require a peer certificate signed by --peer-trusted-ca-file from connecting peers')
    .exitOverride()
    .allowExcessArguments(false);
  program.parse(argv, { from: 'user' });
  const cfg = resolveConfig(program.opts<StoreFlags>());
  const log = createLogger('store', { member: cfg.name });

  process.on('unhandledRejection', (e) => log.error({ err: e }, 'unhandled rejection'));
  const handle = await startStore(cfg, log);
  handle.server.onFatal = (e) => {
    log.fatal({ err: e }, 'store member cannot continue');
    void handle.close().finally(() => process.exit(1));
  };
  handle.server.onRemoved = () => {
    // etcd: "the member has been permanently removed from the cluster"; exit cleanly.
    void handle.close().finally(() => process.exit(0));
  };
  // Exits as soon as the member closed (drainMs 0), as etcd does; a second signal forces.
  void runUntilSignal(log, () => handle.close(), { drainMs: 0 });
}
