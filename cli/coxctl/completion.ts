/**
 * Shell completion: `coxctl completion bash|zsh` prints a script whose
 * completion function asks `coxctl __complete WORDS…` (the words typed after
 * `coxctl`, the last one being completed) for candidates, one per line, as
 * kubectl's scripts ask `kubectl __complete`. The shell filters by prefix.
 */

export const BASH_SCRIPT = `# bash completion for coxctl (source <(coxctl completion bash))
_coxctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local IFS=$'\\n'
  local out
  out=$("\${COMP_WORDS[0]}" __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  COMPREPLY=( $(compgen -W "$out" -- "$cur") )
}
complete -o default -F _coxctl coxctl
`;

export const ZSH_SCRIPT = `#compdef coxctl
# zsh completion for coxctl (source <(coxctl completion zsh), after compinit)
_coxctl() {
  local -a candidates
  candidates=(\${(f)"$(\${words[1]} __complete "\${(@)words[2,$CURRENT]}" 2>/dev/null)"})
  (( \${#candidates} )) && compadd -- "\${candidates[@]}"
}
compdef _coxctl coxctl
`;

/** What completion needs to know about the CLI and the cluster. */
export interface CompletionSources {
  /** Visible verbs, in order. */
  verbs: string[];
  /** A verb's subverbs (rollout: status, history, …). */
  subverbs: Record<string, string[]>;
  /** A verb's (or `verb sub`'s) long flags. */
  flags(verb: string): string[];
  /** Resource type names (plural and short names) the server serves. */
  resourceTypes(): Promise<string[]>;
  /** Names of the objects of a type in a namespace (undefined: the current one). */
  names(type: string, namespace?: string): Promise<string[]>;
}

/** Verbs whose arguments are resource types and names, with the types they accept (undefined: any). */
const RESOURCE_VERBS: Record<string, string[] | undefined> = {
  get: undefined,
  describe: undefined,
  delete: undefined,
  edit: undefined,
  label: undefined,
  annotate: undefined,
  wait: undefined,
  scale: ['deployments', 'replicasets', 'statefulsets', 'replicationcontrollers'],
  'rollout status': ['deployments', 'daemonsets', 'statefulsets'],
  'rollout history': ['deployments', 'daemonsets', 'statefulsets'],
  'rollout undo': ['deployments', 'daemonsets', 'statefulsets'],
  'rollout restart': ['deployments', 'daemonsets', 'statefulsets'],
  'rollout pause': ['deployments'],
  'rollout resume': ['deployments'],
};

/** Verbs whose first argument is a pod (or TYPE/NAME of a workload). */
const POD_VERBS = new Set(['logs', 'exec', 'port-forward']);

const NAMESPACE_FLAGS = new Set(['-n', '--namespace']);
/** Global flags that take a value as the next word. */
const VALUE_FLAGS = new Set(['-n', '--namespace', '--kubeconfig', '--context', '-l', '--selector', '-o', '--output', '-f', '--filename', '--replicas', '--current-replicas', '--timeout', '--revision', '--to-revision', '--field-selector']);

/**
 * The candidates for the last of `words` (the words after `coxctl`; the last
 * may be empty). Flags and their values are skipped when counting positions;
 * `-n NS` anywhere sets the namespace names are listed in.
 */
export async function complete(words: string[], src: CompletionSources): Promise<string[]> {
  const current = words.length ? words[words.length - 1] : '';
  const before = words.slice(0, -1);
  const prev = before[before.length - 1];
  let namespace: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < before.length; i++) {
    const w = before[i];
    if (w.startsWith('-')) {
      if (NAMESPACE_FLAGS.has(w) && i + 1 < before.length) namespace = before[i + 1];
      else if (w.startsWith('--namespace=')) namespace = w.slice('--namespace='.length);
      if (VALUE_FLAGS.has(w)) i++;
      continue;
    }
    positional.push(w);
  }
  if (prev && NAMESPACE_FLAGS.has(prev)) return src.names('namespaces');
  if (prev && VALUE_FLAGS.has(prev)) return [];
  const verb = positional[0];
  if (current.startsWith('-')) return verb ? src.flags(positional.slice(0, 2).join(' ')) : src.flags('');
  if (!verb) return src.verbs;
  if (verb === 'completion') return positional.length === 1 ? ['bash', 'zsh'] : [];
  let key = verb;
  let args = positional.slice(1);
  if (src.subverbs[verb]) {
    if (args.length === 0) return src.subverbs[verb];
    key = `${verb} ${args[0]}`;
    args = args.slice(1);
  }
  if (POD_VERBS.has(key)) {
    if (args.length > 0) return [];
    if (current.includes('/')) {
      const type = current.slice(0, current.indexOf('/'));
      return (await src.names(type, namespace)).map((n) => `${type}/${n}`);
    }
    return src.names('pods', namespace);
  }
  if (!(key in RESOURCE_VERBS)) return [];
  const allowed = RESOURCE_VERBS[key];
  if (current.includes('/')) {
    const type = current.slice(0, current.indexOf('/'));
    return (await src.names(type, namespace)).map((n) => `${type}/${n}`);
  }
  if (args.length === 0) return allowed ?? (await src.resourceTypes());
  if (args[0].includes('/')) return allowed ?? (await src.resourceTypes());
  // `TYPE name…`: more names of the same type (label/annotate take pairs after them; names still help).
  return src.names(args[0].split(',')[0], namespace);
}
