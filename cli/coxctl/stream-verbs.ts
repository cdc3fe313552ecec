import { Command, Option } from 'commander';
import type { Ctx } from './context';
import type { CpFlags } from './cp';
import type { EventsFlags } from './events';
import type { ExecFlags } from './exec';
import type { LogsFlags } from './logs';
import type { PortForwardFlags } from './port-forward';
import type { WaitFlags } from './wait';

const collect = (value: string, previous: string[] = []) => [...previous, value];

type Action = <A extends unknown[]>(fn: (...a: A) => Promise<number>) => (...a: A) => Promise<void>;

/**
 * The verbs that stream (logs, exec, port-forward, cp, events, wait), registered on coxctl's
 * program. `argv` is the whole command line: exec needs to know where `--` was. Each verb's
 * code (and the WebSocket library) loads only when that verb runs: coxctl starts often.
 */
export function registerStreamVerbs(program: Command, context: () => Ctx, action: Action, argv: string[]): void {
  program
    .command('logs')
    .description('Print the logs for a container in a pod')
    .argument('[args...]', 'POD or TYPE/NAME, optionally then CONTAINER')
    .option('-c, --container <name>', 'print the logs of this container')
    .option('-f, --follow', 'stream the logs')
    .option('-p, --previous', 'the logs of the previous instance of the container')
    .option('--tail <lines>', 'lines of recent log to show (-1: all; 10 with a selector)')
    .option('--timestamps', 'include a timestamp on each line')
    .option('-l, --selector <selector>', 'label selector of the pods to read')
    .option('--all-containers', "every container's logs in the pod(s)")
    .option('--prefix', 'prefix each line with the log source (pod and container)')
    .option('--since <duration>', 'only logs newer than a relative duration like 5s, 2m or 3h')
    .option('--since-time <time>', 'only logs after this RFC3339 time')
    .option('--limit-bytes <n>', 'most bytes of logs to return')
    .option('--max-log-requests <n>', 'most log streams followed at once with a selector', '5')
    .option('--pod-running-timeout <duration>', 'how long to wait for a pod of a workload to appear', '20s')
    .option('--ignore-errors', 'when following, keep going after a stream fails')
    .action(action(async (args: string[], flags: LogsFlags) => (await import('./logs.js')).runLogs(context(), args, flags)));

  program
    .command('exec')
    .description('Execute a command in a container')
    .argument('[args...]', 'POD or TYPE/NAME, then -- COMMAND [ARGS...]')
    .option('-c, --container <name>', 'container name (default: the first, or the default-container annotation)')
    .option('-i, --stdin', 'pass stdin to the container')
    .option('-t, --tty', 'stdin is a TTY')
    .option('-q, --quiet', 'only print output from the remote session')
    .option('--pod-running-timeout <duration>', 'how long to wait for a pod of a workload to appear', '1m')
    .action(
      action(async (args: string[], flags: ExecFlags) => {
        const dash = argv.indexOf('--');
        const command = dash >= 0 ? argv.slice(dash + 1) : [];
        const before = args.slice(0, args.length - command.length);
        const { runExec, validateExec } = await import('./exec.js');
        validateExec(before[0], command, dash >= 0, before.slice(1));
        return runExec(context(), before[0], command, flags);
      }),
    );

  program
    .command('port-forward')
    .description('Forward one or more local ports to a pod')
    .argument('[args...]', 'POD or TYPE/NAME, then [LOCAL_PORT:]REMOTE_PORT...')
    .option('--address <addresses>', 'addresses to listen on, comma separated (IPs or localhost)', collect, [])
    .option('--pod-running-timeout <duration>', 'how long to wait for a pod of a workload to appear', '1m')
    .action(action(async (args: string[], flags: PortForwardFlags) => (await import('./port-forward.js')).runPortForward(context(), args, flags)));

  program
    .command('cp')
    .description('Copy files and directories to and from containers')
    .argument('[args...]', 'SRC DEST, one of them [[NAMESPACE/]POD:]PATH')
    .option('-c, --container <name>', 'container name (default: the first)')
    .option('--no-preserve', "don't keep ownership and permissions in the container")
    .action(action(async (args: string[], flags: CpFlags & { preserve?: boolean }) => (await import('./cp.js')).runCp(context(), args, { ...flags, noPreserve: flags.preserve === false })));

  program
    .command('events')
    .description('List events, oldest first')
    .option('-A, --all-namespaces', 'across all namespaces')
    .option('--for <type/name>', 'only events about this object')
    .option('--types <types>', 'only events of these types (Normal, Warning; comma separated)', collect, [])
    .option('-w, --watch', 'after listing, watch for more events')
    .option('--no-headers', "don't print headers")
    .action(action(async (flags: EventsFlags & { headers?: boolean }) => (await import('./events.js')).runEvents(context(), { ...flags, noHeaders: flags.headers === false })));

  program
    .command('wait')
    .description('Wait for a specific condition on one or many resources')
    .argument('[resources...]', 'TYPE/NAME..., TYPE NAME..., or TYPE with -l or --all')
    .addOption(new Option('--for <condition>', "delete, create, condition=NAME[=VALUE] or jsonpath='{EXPR}'[=VALUE]"))
    .option('--timeout <duration>', 'how long to wait (0: check once; negative: a week)', '30s')
    .option('-l, --selector <selector>', 'label selector')
    .option('--all', 'every object of the types in the namespace')
    .option('-A, --all-namespaces', 'across all namespaces')
    .action(action(async (args: string[], flags: WaitFlags) => (await import('./wait.js')).runWait(context(), args, flags)));
}
