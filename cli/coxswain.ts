/**
 * `coxswain <component> [flags]`: the one entry binary. Each component runs as
 * its own process; `coxswain up` starts a whole local cluster as child
 * processes of this binary. Components are loaded lazily so that a process only
 * loads the code it runs.
 */
const COMPONENTS: Record<string, { module: string; summary: string }> = {
  store: { module: '../store/main', summary: 'a Raft replica of the cluster store (etcd v3 API)' },
  apiserver: { module: '../apiserver/main', summary: 'the Kubernetes API server (HTTPS)' },
  scheduler: { module: '../scheduler/main', summary: 'binds pods to nodes' },
  controllers: { module: '../controllers/main', summary: 'deployments, replicasets, endpoints, node IPAM, garbage collection, disruption budgets' },
  kubelet: { module: '../kubelet/main', summary: "the node agent: runs this host's pods on Docker" },
  'hollow-nodes': { module: '../kubelet/hollow/main', summary: 'N hollow nodes from one process: pods bound to them run at once, without Docker (scale tests, trying scheduling rules)' },
  proxy: { module: '../proxy/main', summary: 'Service ClusterIPs and NodePorts for this host' },
  up: { module: './up', summary: 'a whole local cluster as child processes (npm start)' },
  server: { module: './server', summary: 'a control-plane host of a cluster of several hosts (creates the cluster, or joins with --server --token)' },
  agent: { module: './agent', summary: 'a worker host: kubelet and proxy, joined with --server --token' },
  init: { module: './init', summary: 'create the cluster PKI and kubeconfigs without starting anything' },
  token: { module: './token', summary: 'join tokens for hosts: create [--ttl] [--role], list, delete <id>' },
};

function usage(): string {
  const lines = Object.entries(COMPONENTS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `Usage: coxswain <command> [flags]\n\nCommands:\n${lines.join('\n')}\n\nRun 'coxswain <command> --help' for the command's flags.\n`;
}

export async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage());
    return;
  }
  if (command === '--version' || command === 'version') {
    process.stdout.write(`coxswain ${require('../../package.json').version}\n`);
    return;
  }
  const entry = COMPONENTS[command];
  if (!entry) {
    process.stderr.write(`coxswain: unknown command ${JSON.stringify(command)}\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  const mod = require(entry.module) as { main(argv: string[]): Promise<void> };
  await mod.main(rest);
}

/** Runs the command line and exits non-zero with a one-line error on failure. */
export function runMain(argv: string[]): void {
  run(argv).catch((err: unknown) => {
    // commander has already printed help (exit 0) or the command line's problem (exit 1 or 2)
    const c = err as { code?: unknown; exitCode?: unknown };
    if (typeof c.code === 'string' && c.code.startsWith('commander.') && typeof c.exitCode === 'number') process.exit(c.exitCode);
    process.stderr.write(`coxswain: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

if (require.main === module) runMain(process.argv.slice(2));
