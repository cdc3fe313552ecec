import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runApply, type ApplyFlags } from './apply';
import { Ctx, type GlobalFlags, type IO } from './context';
import type { DashboardFlags } from './dashboard';
import { runDelete, type DeleteFlags } from './delete';
import { runDescribe, type DescribeFlags } from './describe';
import { formatError } from './errors';
import { runGet, type GetFlags } from './get';
import { columnWidths, formatLines } from './table';
import { runWhyPending, type WhyPendingFlags } from './why-pending';
import { runTopNodes, runTopPods, type TopNodeFlags, type TopPodFlags } from './top';
import { registerStreamVerbs } from './stream-verbs';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function parseBool(value: string | undefined): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError('expected true or false');
}

/**
 * Runs one coxctl command line (`argv` without node and script) against `io`
 * and resolves to the exit code: 0 ok, 1 on any error (printed kubectl-style).
 */
export async function run(argv: string[], io: IO): Promise<number> {
  let exitCode = 0;
  let ctx: Ctx | undefined;
  const program = new Command('coxctl')
    .description('coxctl controls a Coxswain (or Kubernetes) cluster, like kubectl')
    .option('--kubeconfig <file>', 'kubeconfig file (default $KUBECONFIG or ~/.coxswain/kubeconfig)')
    .option('-n, --namespace <namespace>', 'namespace for this request')
    .option('--context <name>', 'kubeconfig context to use')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError(false);

  const context = (): Ctx => {
    if (!ctx) ctx = new Ctx(io, program.opts<GlobalFlags>());
    return ctx;
  };
  const action =
    <A extends unknown[]>(fn: (...a: A) => Promise<number>) =>
    async (...a: A) => {
      exitCode = await fn(...a);
    };

  program
    .command('get')
    .description('Display one or many resources')
    .argument('[resources...]', 'TYPE[,TYPE...] [NAME...] or TYPE/NAME...')
    .option('-o, --output <format>', 'output format: wide, yaml, json, name')
    .option('-A, --all-namespaces', 'list across all namespaces')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db')
    .option('--field-selector <selector>', 'field selector, e.g. metadata.name=x')
    .option('-w, --watch', 'after listing, watch for changes')
    .option('--watch-only', 'watch for changes without listing first')
    .option('--show-labels', 'show all labels as the last column')
    .action(action((args: string[], flags: GetFlags) => runGet(context(), args, flags)));

  program
    .command('apply')
    .description('Apply a configuration to resources by file name or stdin (server-side apply)')
    .option('-f, --filename <file>', 'file, folder or - for stdin (repeatable)', collect, [])
    .option('-R, --recursive', 'process folders recursively')
    .option('--field-manager <name>', 'field manager name', 'coxctl')
    .addOption(new Option('--force-conflicts [bool]', 'take ownership of conflicting fields').argParser(parseBool).default(true))
    .addOption(new Option('--dry-run <mode>', 'none or server').choices(['none', 'server']))
    .action(action((flags: ApplyFlags) => runApply(context(), flags)));

  program
    .command('delete')
    .description('Delete resources by file names, stdin, or types and names')
    .argument('[resources...]', 'TYPE NAME... or TYPE/NAME...')
    .option('-f, --filename <file>', 'file, folder or - for stdin (repeatable)', collect, [])
    .option('-R, --recursive', 'process folders recursively')
    .option('-l, --selector <selector>', 'delete every object matching this label selector')
    .option('--all', 'delete every object of the given types in the namespace')
    .addOption(new Option('--wait [bool]', 'wait until the objects are gone').argParser(parseBool).default(true))
    .option('--timeout <duration>', 'how long to wait (0s waits without a deadline)', '0s')
    .option('--ignore-not-found', 'treat "not found" as success')
    .option('--grace-period <seconds>', 'seconds given to the object to terminate gracefully')
    .option('--now', 'grace period of 1 second')
    .option('--cascade <mode>', 'background, foreground or orphan', 'background')
    .action(action((args: string[], flags: DeleteFlags) => runDelete(context(), args, flags)));

  program
    .command('describe')
    .description('Show details of a resource or group of resources')
    .argument('<resources...>', 'TYPE [NAME...] or TYPE/NAME...')
    .option('-l, --selector <selector>', 'label selector')
    .option('-A, --all-namespaces', 'across all namespaces')
    .action(action((args: string[], flags: DescribeFlags) => runDescribe(context(), args, flags)));

  program
    .command('why-pending')
    .description("Explain why a pod is Pending: each node with the plugin and reason that rejected it in the scheduler's last attempt")
    .argument('<pod>', 'pod name (in -n NAMESPACE)')
    .option('--all', 'one line per node even when there are many (more than 50 are grouped by reason otherwise)')
    .option('-o, --output <format>', 'wide: one line per node with the filter status (Unschedulable or UnschedulableAndUnresolvable)')
    .action(action((name: string, flags: WhyPendingFlags) => runWhyPending(context(), name, flags)));

  const top = program.command('top').description('Display resource (CPU/memory) usage of nodes or pods (Metrics API)');
  top
    .command('node')
    .aliases(['nodes', 'no'])
    .description('Display resource (CPU/memory) usage of nodes')
    .argument('[name]', 'node name')
    .option('-l, --selector <selector>', 'label selector')
    .option('--no-headers', 'print no header line')
    .option('--sort-by <field>', 'cpu or memory, largest first')
    .option('--show-capacity', 'percentages of the capacity instead of the allocatable')
    .action(action((name: string | undefined, flags: TopNodeFlags & { headers?: boolean }) => runTopNodes(context(), name, { ...flags, noHeaders: flags.headers === false })));
  top
    .command('pod')
    .aliases(['pods', 'po'])
    .description('Display resource (CPU/memory) usage of pods')
    .argument('[name]', 'pod name')
    .option('-A, --all-namespaces', 'across all namespaces')
    .option('-l, --selector <selector>', 'label selector')
    .option('--field-selector <selector>', 'field selector')
    .option('--containers', 'one line per container')
    .option('--no-headers', 'print no header line')
    .option('--sort-by <field>', 'cpu or memory, largest first')
    .option('--sum', 'print the sum of the usage')
    .action(action((name: string | undefined, flags: TopPodFlags & { headers?: boolean }) => runTopPods(context(), name, { ...flags, noHeaders: flags.headers === false })));
  registerStreamVerbs(program, context, action, argv);

  program
    .command('dashboard')
    .description('Serve the web dashboard on this machine; it reaches the cluster through coxctl with the kubeconfig\'s credentials')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8001')
    .option('--address <address>', 'address to listen on', '127.0.0.1')
    .option('--no-open', 'do not open a browser')
    // (its server, proxy and the WebSocket library load only when it runs: coxctl starts often)
    .action(action(async (flags: DashboardFlags) => (await import('./dashboard.js')).runDashboard(context(), flags)));

  program
    .command('api-resources')
    .description('Print the resource types the server supports')
    .action(
      action(async () => {
        const c = context();
        const rows = (await c.discovery.resources()).map((r) => [r.resource, r.shortNames.join(','), r.group ? `${r.group}/${r.version}` : r.version, String(r.namespaced), r.kind]);
        const headers = ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND'];
        c.out(formatLines([headers, ...rows], columnWidths([headers, ...rows])));
        return 0;
      }),
    );

  program
    .command('version')
    .description('Print the client and server versions')
    .action(
      action(async () => {
        const c = context();
        c.out(`Client Version: coxctl ${clientVersion()}\n`);
        const v = await c.client.request<{ gitVersion?: string }>('GET', '/version');
        c.out(`Server Version: ${v?.gitVersion ?? 'unknown'}\n`);
        return 0;
      }),
    );

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' ? 0 : err.exitCode || 1;
    } else {
      io.stderr.write(formatError(err, ctx?.server) + '\n');
      exitCode = 1;
    }
  } finally {
    ctx?.close();
  }
  return exitCode;
}

function clientVersion(): string {
  try {
    return (require('../../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The bin entry's job: run `process.argv` with the process's streams and set the exit code. */
export async function main(argv: string[]): Promise<void> {
  process.exitCode = await run(argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
}
