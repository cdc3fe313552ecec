import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Ctx } from './context';
import type { CompletionSources } from './completion';

/**
 * The verbs that change objects (scale, rollout, edit, label, annotate) and
 * `completion`, registered on coxctl's program. Each command's module is
 * required only when that command runs, so start-up loads none of them.
 */

type Action = <A extends unknown[]>(fn: (...a: A) => Promise<number>) => (...a: A) => Promise<void>;

/** `true`/`false` (also `-w=false`, which commander passes as `=false`). */
function parseBool(value: string | undefined): boolean {
  const v = value?.replace(/^=/, '');
  if (v === undefined || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InvalidArgumentError('expected true or false');
}

export function registerObjectVerbs(program: Command, context: () => Ctx, action: Action): void {
  program
    .command('scale')
    .description('Set a new size for a deployment, replica set or stateful set (through its /scale subresource)')
    .argument('<resources...>', 'TYPE NAME or TYPE/NAME')
    .option('--replicas <count>', 'the new desired number of replicas (required)')
    .option('--current-replicas <count>', 'precondition: the current size must be this, or nothing is scaled')
    .option('--resource-version <version>', 'precondition: the resource version must match')
    .option('-l, --selector <selector>', 'label selector')
    .option('--all', 'every object of the type in the namespace')
    .option('--timeout <duration>', 'wait this long for the replicas to reach the new size (0: do not wait)')
    .action(action((args: string[], flags) => (require('./scale') as typeof import('./scale')).runScale(context(), args, flags)));

  const rollout = program.command('rollout').description('Manage the rollout of deployments, daemon sets and stateful sets');
  rollout
    .command('status')
    .description('Show the status of the rollout, watching until it is done')
    .argument('<resources...>', 'TYPE NAME or TYPE/NAME')
    .addOption(new Option('-w, --watch [bool]', 'watch until the rollout is done').argParser(parseBool).default(true))
    .option('--timeout <duration>', 'how long to watch (0: without a deadline)')
    .option('--revision <n>', "pin to a Deployment's revision")
    .option('-l, --selector <selector>', 'label selector')
    .action(action((args: string[], flags) => (require('./rollout') as typeof import('./rollout')).runRolloutStatus(context(), args, flags)));
  rollout
    .command('history')
    .description('View rollout history')
    .argument('<resources...>', 'TYPE NAME or TYPE/NAME')
    .option('--revision <n>', "the pod template of this revision")
    .option('-l, --selector <selector>', 'label selector')
    .action(action((args: string[], flags) => (require('./rollout') as typeof import('./rollout')).runRolloutHistory(context(), args, flags)));
  rollout
    .command('undo')
    .description('Roll back to a previous rollout')
    .argument('<resources...>', 'TYPE NAME or TYPE/NAME')
    .option('--to-revision <n>', 'the revision to roll back to (0: the previous one)', '0')
    .option('-l, --selector <selector>', 'label selector')
    .action(action((args: string[], flags) => (require('./rollout') as typeof import('./rollout')).runRolloutUndo(context(), args, flags)));
  for (const [verb, text] of [
    ['restart', 'Restart a resource: its pods are replaced by a new rollout'],
    ['pause', 'Mark a deployment as paused: template changes do not roll out'],
    ['resume', 'Resume a paused deployment'],
  ] as const) {
    rollout
      .command(verb)
      .description(text)
      .argument('<resources...>', 'TYPE NAME or TYPE/NAME')
      .option('-l, --selector <selector>', 'label selector')
      .action(action((args: string[], flags) => (require('./rollout') as typeof import('./rollout')).runRolloutChange(context(), verb, args, flags)));
  }

  program
    .command('edit')
    .description('Edit a resource in $KUBE_EDITOR or $EDITOR (default vi) and apply the change as a patch')
    .argument('<resources...>', 'TYPE NAME or TYPE/NAME')
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .option('-l, --selector <selector>', 'label selector')
    .action(action((args: string[], flags) => (require('./edit') as typeof import('./edit')).runEdit(context(), args, flags)));

  for (const kind of ['label', 'annotate'] as const) {
    const what = kind === 'label' ? 'labels' : 'annotations';
    program
      .command(kind)
      .description(`Update the ${what} on a resource: KEY=VALUE sets, KEY- removes`)
      .argument('<args...>', `TYPE NAME KEY=VALUE... KEY-...`)
      .option('--overwrite', `allow ${what} that already have a value to be changed`)
      .option('-l, --selector <selector>', 'label selector')
      .option('--all', 'every object of the type in the namespace')
      .option('-A, --all-namespaces', 'across all namespaces')
      .option('--list', `print the ${what} instead of changing them`)
      .option('--resource-version <version>', 'only change the object at this resource version')
      .addOption(new Option('--dry-run <mode>', 'none or server').choices(['none', 'server']))
      .action(
        action((args: string[], flags) => (require('./label') as typeof import('./label')).runLabel(context(), kind === 'label' ? 'label' : 'annotation', args, flags)),
      );
  }

  program
    .command('completion')
    .description('Print a shell completion script: source <(coxctl completion bash)')
    .argument('<shell>', 'bash or zsh')
    .action(
      action(async (shell: string) => {
        const c = require('./completion') as typeof import('./completion');
        if (shell !== 'bash' && shell !== 'zsh') {
          const { CliError } = require('./errors') as typeof import('./errors');
          throw new CliError(`Unsupported shell type "${shell}".`);
        }
        context().out(shell === 'bash' ? c.BASH_SCRIPT : c.ZSH_SCRIPT);
        return 0;
      }),
    );
}

/** Answers `coxctl __complete WORDS…`: candidates on stdout, one per line; cluster errors leave only the static ones. */
export async function runComplete(program: Command, words: string[], context: () => Ctx): Promise<number> {
  const { complete } = require('./completion') as typeof import('./completion');
  const verbs = program.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((c) => c.name());
  const subverbs: Record<string, string[]> = {};
  for (const c of program.commands) if (c.commands.length) subverbs[c.name()] = c.commands.map((s) => s.name());
  const find = (path: string): Command | undefined => {
    let cmd: Command | undefined = program;
    for (const part of path.split(' ').filter(Boolean)) cmd = cmd?.commands.find((c) => c.name() === part);
    return cmd;
  };
  for (let i = 0; i < words.length - 1; i++) {
    if (words[i] === '--kubeconfig') context().flags.kubeconfig = words[i + 1];
    if (words[i] === '--context') context().flags.context = words[i + 1];
  }
  const withNamespace = (ns?: string) => {
    if (ns) context().flags.namespace = ns;
    return context();
  };
  const src: CompletionSources = {
    verbs,
    subverbs,
    flags: (path) => [...(find(path)?.options ?? []), ...(path ? program.options : [])].map((o) => o.long).filter((l): l is string => !!l),
    resourceTypes: async () => {
      const list = await context().discovery.resources();
      return [...new Set(list.filter((r) => r.verbs.includes('list') || r.verbs.length === 0).flatMap((r) => [r.resource, ...r.shortNames]))].sort();
    },
    names: async (type, ns) => {
      const c = withNamespace(ns);
      const info = await c.discovery.resolve(type);
      const { resourcePath } = require('../../lib/resources') as typeof import('../../lib/resources');
      const list = await c.client.request<{ items?: { metadata?: { name?: string } }[] }>('GET', resourcePath(info, { namespace: info.namespaced ? c.namespace : undefined }), { timeoutMs: 5_000 });
      return (list.items ?? []).map((o) => o.metadata?.name ?? '').filter(Boolean);
    },
  };
  let out: string[] = [];
  try {
    out = await complete(words, src);
  } catch {
    out = [];
  }
  context().out(out.map((w) => `${w}\n`).join(''));
  return 0;
}
