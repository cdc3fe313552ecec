import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError, type ObjectList } from '../../lib/client';
import { parseDuration } from '../../lib/duration';
import { PODS, resourcePath } from '../../lib/resources';
import type { Ctx } from './context';
import { CliError, formatApiError } from './errors';
import { defaultContainer, hasContainer } from './pod-select';
import { findPod, TargetNotFound } from './pod-target';

export interface LogsFlags {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  tail?: string;
  timestamps?: boolean;
  selector?: string;
  allContainers?: boolean;
  prefix?: boolean;
  since?: string;
  sinceTime?: string;
  limitBytes?: string;
  maxLogRequests?: string;
  podRunningTimeout?: string;
  ignoreErrors?: boolean;
}

/** One log stream to read: a container of a pod. */
export interface LogSource {
  namespace: string;
  pod: string;
  container: string;
}

/** The pods/log query for the flags (pure): with -l and no --tail, the last 10 lines as kubectl. */
export function logQuery(flags: LogsFlags): Record<string, string | number | boolean | undefined> {
  let tail: number | undefined;
  if (flags.tail !== undefined) {
    tail = Number(flags.tail);
    if (!Number.isInteger(tail)) throw new CliError(`invalid argument "${flags.tail}" for "--tail" flag: strconv.ParseInt: parsing "${flags.tail}": invalid syntax`);
    if (tail < -1) throw new CliError('--tail must be greater than or equal to -1');
    if (tail === -1) tail = undefined;
  } else if (flags.selector) tail = 10;
  if (flags.since && flags.sinceTime) throw new CliError('at most one of `sinceTime` or `sinceSeconds` may be specified');
  let limitBytes: number | undefined;
  if (flags.limitBytes !== undefined) {
    limitBytes = Number(flags.limitBytes);
    if (!Number.isInteger(limitBytes) || limitBytes < 0) throw new CliError('--limit-bytes must be greater than 0');
    if (limitBytes === 0) limitBytes = undefined;
  }
  let sinceSeconds: number | undefined;
  if (flags.since) {
    const ms = parseDuration(flags.since);
    if (ms < 0) throw new CliError('--since must be greater than 0');
    sinceSeconds = Math.round(ms / 1000) || undefined;
  }
  return {
    follow: flags.follow || undefined,
    previous: flags.previous || undefined,
    timestamps: flags.timestamps || undefined,
    tailLines: tail,
    limitBytes,
    sinceSeconds,
    sinceTime: flags.sinceTime,
  };
}

/**
 * The containers to read for one pod (pure): every container with --all-containers (init,
 * regular, ephemeral, as kubectl), else the one named or the default; `notes` are kubectl's
 * stderr lines about the choice.
 */
export function sourcesFor(pod: Pod, flags: { container?: string; allContainers?: boolean }, quietDefault = false): { sources: LogSource[]; notes: string } {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  if (flags.allContainers) {
    const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
    return { sources: all.map((c) => ({ namespace, pod: name, container: c.name })), notes: '' };
  }
  let notes = '';
  let container = flags.container;
  if (!container) {
    const annotated = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
    if (annotated && !hasContainer(pod, annotated)) notes += `Default container name "${annotated}" not found in pod ${name}\n`;
    const d = defaultContainer(pod);
    container = d.name;
    if (d.note && !quietDefault) notes += d.note;
  }
  if (!hasContainer(pod, container)) throw new CliError(`container ${container} is not valid for pod ${name}`);
  return { sources: [{ namespace, pod: name, container }], notes };
}

/** Writes whole lines to `out`, each after `prefix` (kubectl's --prefix writer). */
export class LinePrefixer {
  private rest = '';
  constructor(
    private readonly prefix: string,
    private readonly out: (s: string) => void,
  ) {}
  write(chunk: string): void {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const l of lines) this.out(`${this.prefix}${l}\n`);
  }
  end(): void {
    if (this.rest) this.out(`${this.prefix}${this.rest}`);
    this.rest = '';
  }
}

/**
 * `coxctl logs POD|TYPE/NAME [CONTAINER]` or `coxctl logs -l SELECTOR`: streams container logs
 * as kubectl does (a workload's best pod, -f, --previous, --tail, --prefix, --all-containers).
 */
export async function runLogs(ctx: Ctx, args: string[], flags: LogsFlags): Promise<number> {
  if (args.length === 0 && !flags.selector) throw new CliError("expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\nSee 'coxctl logs -h' for help and examples");
  if (args.length === 1 && flags.selector) throw new CliError("only a selector (-l) or a POD name is allowed\nSee 'coxctl logs -h' for help and examples");
  if (args.length > 2) throw new CliError("expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\nSee 'coxctl logs -h' for help and examples");
  if (args.length === 2 && flags.container) throw new CliError('only one of -c or an inline [CONTAINER] arg is allowed');
  const container = args[1] ?? flags.container;
  if (flags.allContainers && container) throw new CliError(`--all-containers=true should not be specified with container name ${container}`);
  const query = logQuery(flags);
  const ns = ctx.namespace;

  let sources: LogSource[] = [];
  if (flags.selector) {
    const list = await ctx.client.request<ObjectList<Pod>>('GET', resourcePath(PODS, { namespace: ns }), { query: { labelSelector: flags.selector } });
    if (list.items.length === 0) {
      ctx.err(`No resources found in ${ns} namespace.\n`);
      return 0;
    }
    for (const pod of list.items) {
      const s = sourcesFor(pod, { container, allContainers: flags.allContainers });
      ctx.err(s.notes);
      sources.push(...s.sources);
    }
  } else {
    let target;
    try {
      target = await findPod(ctx, args[0], 'logging', parseDuration(flags.podRunningTimeout ?? '20s'));
    } catch (err) {
      if (err instanceof TargetNotFound) throw new CliError(`error from server (NotFound): ${err.apiError.message} in namespace "${ns}"`);
      throw err;
    }
    if (target.matched > 1) ctx.err(`Found ${target.matched} pods, using pod/${target.pod.metadata?.name}\n`);
    const s = sourcesFor(target.pod, { container, allContainers: flags.allContainers });
    ctx.err(s.notes);
    sources = s.sources;
  }

  const max = Number(flags.maxLogRequests ?? 5);
  if (flags.follow && sources.length > 1 && sources.length > max) {
    throw new CliError(`you are attempting to follow ${sources.length} log streams, but maximum allowed concurrency is ${max}, use --max-log-requests to increase the limit`);
  }
  const one = async (src: LogSource): Promise<void> => {
    const res = await ctx.client.stream('GET', resourcePath(PODS, { namespace: src.namespace, name: src.pod, subresource: 'log' }), { query: { ...query, container: src.container } });
    // Whole lines only, so streams followed at once never interleave within a line (as kubectl).
    const lines = new LinePrefixer(flags.prefix ? `[pod/${src.pod}/${src.container}] ` : '', (s) => ctx.out(s));
    res.setEncoding('utf8');
    for await (const chunk of res as AsyncIterable<string>) lines.write(chunk);
    lines.end();
  };
  const guarded = async (src: LogSource): Promise<void> => {
    try {
      await one(src);
    } catch (err) {
      if (!flags.ignoreErrors) throw err;
      ctx.out(`error: ${err instanceof ApiError ? err.message : (err as Error).message}\n`);
    }
  };
  try {
    if (flags.follow && sources.length > 1) await Promise.all(sources.map(guarded));
    else for (const src of sources) await guarded(src);
  } catch (err) {
    if (err instanceof ApiError) {
      ctx.err(formatApiError(err) + '\n');
      return 1;
    }
    throw err;
  }
  return 0;
}
