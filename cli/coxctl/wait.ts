import type { WriteStream } from 'node:tty';
import { ApiError, type KubeObject, type ObjectList } from '../../lib/client';
import { parseDuration } from '../../lib/duration';
import { resourcePath } from '../../lib/resources';
import type { Ctx } from './context';
import { typeName, type ResourceInfo } from './discovery';
import { CliError, formatApiError } from './errors';
import { resolveRequests } from './get';
import { conditionMet, parseWaitFor, type WaitFor } from './wait-condition';

export interface WaitFlags {
  for?: string;
  timeout?: string;
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
}

interface Target {
  info: ResourceInfo;
  namespace?: string;
  name: string;
}

const WEEK_MS = 168 * 3600_000;

/** `--timeout` → milliseconds: 0 checks once, a negative value waits a week (pure). */
export function waitTimeout(text: string | undefined): number {
  const t = (text ?? '30s').trim();
  const negative = t.startsWith('-');
  let ms: number;
  try {
    ms = parseDuration(negative ? t.slice(1) : t);
  } catch {
    throw new CliError(`invalid argument "${t}" for "--timeout" flag: time: invalid duration "${t}"`);
  }
  return negative ? WEEK_MS : ms;
}

/** Shows how long a wait has lasted on a terminal's stderr, on one line it clears when done. */
class Progress {
  private timer?: NodeJS.Timeout;
  private shown = false;
  constructor(
    private readonly err: WriteStream,
    private readonly started = Date.now(),
  ) {}
  start(what: string): void {
    if (!this.err.isTTY) return;
    this.timer = setInterval(() => {
      this.shown = true;
      this.err.write(`\r\x1b[KWaiting for ${what}: ${Math.round((Date.now() - this.started) / 1000)}s`);
    }, 1000);
    this.timer.unref();
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.shown) this.err.write('\r\x1b[K');
    this.shown = false;
  }
}

/**
 * `coxctl wait TYPE/NAME...|TYPE -l SEL --for=condition=C[=V]|delete|create|jsonpath=...`:
 * prints `kind/name condition met` for each object in turn; `timed out waiting for the
 * condition on pods/x` when the deadline (shared by all objects) passes.
 */
export async function runWait(ctx: Ctx, args: string[], flags: WaitFlags): Promise<number> {
  const cond = parseWaitFor(flags.for);
  const timeoutMs = waitTimeout(flags.timeout);
  const deadline = Date.now() + timeoutMs;
  if (args.length === 0) throw new CliError('resource(s) were provided, but no name was specified');
  const resolved = await resolveRequests(ctx, args);

  if (cond.kind === 'create') {
    await pollCreated(ctx, resolved.flatMap((r) => r.names.map((name) => ({ info: r.info, name, namespace: r.info.namespaced ? ctx.namespace : undefined }))), deadline);
  }

  const targets: Target[] = [];
  for (const { info, names } of resolved) {
    const ns = info.namespaced ? (flags.allNamespaces ? undefined : ctx.namespace) : undefined;
    if (names.length > 0) {
      for (const name of names) targets.push({ info, namespace: ns, name });
      continue;
    }
    if (!flags.selector && !flags.all) throw new CliError('resource(s) were provided, but no name was specified');
    const list = await ctx.client.request<ObjectList>('GET', resourcePath(info, { namespace: ns }), { query: { labelSelector: flags.selector } });
    for (const o of list.items) targets.push({ info, namespace: o.metadata?.namespace, name: o.metadata?.name ?? '' });
  }
  if (targets.length === 0 && cond.kind !== 'delete') throw new CliError('no matching resources found');

  const progress = new Progress(ctx.io.stderr as WriteStream);
  try {
    for (const t of targets) {
      progress.start(`${typeName(t.info)}/${t.name}`);
      const met = await waitOne(ctx, t, cond, timeoutMs, deadline);
      progress.stop();
      if (met) ctx.out(`${typeName(t.info)}/${t.name} condition met\n`);
    }
  } catch (err) {
    progress.stop();
    if (err instanceof ApiError) {
      ctx.err(formatApiError(err) + '\n');
      return 1;
    }
    throw err;
  }
  return 0;
}

async function pollCreated(ctx: Ctx, targets: Target[], deadline: number): Promise<void> {
  for (;;) {
    let missing = false;
    for (const t of targets) {
      try {
        await ctx.client.request('GET', resourcePath(t.info, { namespace: t.namespace, name: t.name }));
      } catch (err) {
        if (err instanceof ApiError && err.notFound) missing = true;
        else throw err;
      }
    }
    if (!missing) return;
    if (Date.now() >= deadline) throw new CliError('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits for one object; resolves true when met (false for a `delete` of something never there is also "met"). */
async function waitOne(ctx: Ctx, t: Target, cond: WaitFor, timeoutMs: number, deadline: number): Promise<boolean> {
  const timedOut = () => new CliError(`timed out waiting for the condition on ${t.info.resource}/${t.name}`);
  const path = resourcePath(t.info, { namespace: t.namespace, name: t.name });
  if (cond.kind === 'create') return true;
  if (cond.kind === 'delete') {
    try {
      await ctx.client.request('GET', path);
    } catch (err) {
      if (err instanceof ApiError && err.notFound) return true;
      throw err;
    }
    if (timeoutMs === 0) throw new CliError(`condition not met for ${t.info.resource}/${t.name}`);
  } else if (timeoutMs === 0) {
    const obj = await ctx.client.request('GET', path);
    if (!conditionMet(obj, cond)) throw new CliError(`condition not met for ${t.info.resource}/${t.name}`);
    return true;
  }
  if (Date.now() >= deadline) throw timedOut();

  // List the one object (for its resourceVersion), check it, then watch from there; relist when the watch ends.
  for (;;) {
    const fieldSelector = `metadata.name=${t.name}`;
    const list = await ctx.client.request<ObjectList>('GET', resourcePath(t.info, { namespace: t.namespace }), { query: { fieldSelector } });
    const obj = list.items[0];
    if (cond.kind === 'delete') {
      if (!obj) return true;
    } else {
      if (!obj) throw new ApiError(404, 'NotFound', `${t.info.group ? `${t.info.resource}.${t.info.group}` : t.info.resource} "${t.name}" not found`, { kind: 'Status' });
      if (conditionMet(obj, cond)) return true;
    }
    const abort = new AbortController();
    const left = deadline - Date.now();
    if (left <= 0) throw timedOut();
    const timer = setTimeout(() => abort.abort(), left);
    let met = false;
    let failure: unknown;
    try {
      await ctx.client.watch<KubeObject>(t.info, { namespace: t.namespace, fieldSelector, resourceVersion: list.metadata.resourceVersion, signal: abort.signal }, (ev) => {
        if (met) return;
        if (ev.type === 'ERROR') {
          const s = ev.object as { message?: string };
          if ((ev.object as { code?: number }).code === 410) abort.abort();
          else ctx.err(`error: An error occurred while waiting for the condition to be satisfied: ${s.message ?? ''}`);
          return;
        }
        if (cond.kind === 'delete') met = ev.type === 'DELETED';
        else if (ev.type !== 'DELETED') {
          try {
            met = conditionMet(ev.object, cond);
          } catch (err) {
            failure = err;
            abort.abort();
          }
        }
        if (met) abort.abort();
      });
    } catch (err) {
      if (!(err instanceof ApiError && err.expired)) throw err;
    } finally {
      clearTimeout(timer);
    }
    if (failure) throw failure;
    if (met) return true;
    if (Date.now() >= deadline) throw timedOut();
  }
}
