import { ApiError, type KubeObject } from '../../lib/client';
import { resourcePath } from '../../lib/resources';
import { describeFailure, targetNamespace } from './apply';
import type { Ctx } from './context';
import { typeName, type ResourceInfo } from './discovery';
import { CliError, formatApiError } from './errors';
import { resolveRequests } from './get';
import { readManifests } from './manifests';
import { parseDuration as parseGoDuration } from '../../lib/duration';

export interface DeleteFlags {
  filename?: string[];
  recursive?: boolean;
  wait?: boolean;
  timeout?: string;
  ignoreNotFound?: boolean;
  gracePeriod?: string;
  now?: boolean;
  cascade?: string;
  selector?: string;
  all?: boolean;
}

/** Parses kubectl durations (`30s`, `5m`, `1h`, `500ms`, bare seconds); 0 means no deadline. */
export function parseDuration(text: string): number {
  try {
    return parseGoDuration(text);
  } catch {
    throw new CliError(`invalid duration "${text}"`);
  }
}

interface Target {
  info: ResourceInfo;
  name: string;
  namespace?: string;
  source?: string;
}

function propagation(cascade: string | undefined): 'Background' | 'Foreground' | 'Orphan' {
  switch ((cascade ?? 'background').toLowerCase()) {
    case 'background':
    case 'true':
      return 'Background';
    case 'foreground':
      return 'Foreground';
    case 'orphan':
    case 'false':
      return 'Orphan';
    default:
      throw new CliError(`invalid cascade value (${cascade}). Must be "background", "foreground", or "orphan"`);
  }
}

/**
 * `coxctl delete`: DELETE each object, print `<type> "<name>" deleted`, then
 * (with --wait, the default) poll until every deleted object is gone or the
 * timeout passes.
 */
export async function runDelete(ctx: Ctx, args: string[], flags: DeleteFlags): Promise<number> {
  const targets: Target[] = [];
  let exit = 0;
  if (flags.filename?.length) {
    if (args.length) throw new CliError('when paths are specified, resource types and names must not be given');
    for (const m of await readManifests(flags.filename, { recursive: !!flags.recursive, stdin: ctx.io.stdin })) {
      try {
        const info = await ctx.discovery.forKind(m.object.apiVersion!, m.object.kind!);
        const namespace = targetNamespace(m.object, info, ctx.namespace, !!ctx.flags.namespace);
        targets.push({ info, name: m.object.metadata?.name ?? '', namespace, source: m.source });
      } catch (err) {
        ctx.err(describeFailure(err, m, 'deleting', ctx.server) + '\n');
        exit = 1;
      }
    }
  } else {
    if (args.length === 0) throw new CliError('You must provide one or more resources by argument or filename.');
    for (const { info, names } of await resolveRequests(ctx, args)) {
      const namespace = info.namespaced ? ctx.namespace : undefined;
      if (names.length > 0) {
        for (const name of names) targets.push({ info, name, namespace });
      } else if (flags.all || flags.selector) {
        const list = await ctx.client.request<{ items: KubeObject[] }>('GET', resourcePath(info, { namespace }), { query: { labelSelector: flags.selector } });
        for (const o of list.items ?? []) targets.push({ info, name: o.metadata?.name ?? '', namespace });
        if (!list.items?.length) ctx.err(info.namespaced ? `No resources found in ${namespace} namespace.\n` : 'No resources found\n');
      } else {
        throw new CliError('resource(s) were provided, but no name was specified');
      }
    }
  }
  const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: propagation(flags.cascade) };
  if (flags.now) body.gracePeriodSeconds = 1;
  if (flags.gracePeriod !== undefined && Number(flags.gracePeriod) >= 0) body.gracePeriodSeconds = Number(flags.gracePeriod);

  const deleted: { target: Target; uid?: string }[] = [];
  for (const t of targets) {
    const path = resourcePath(t.info, { namespace: t.namespace, name: t.name });
    try {
      const res = await ctx.client.request<KubeObject>('DELETE', path, { body });
      ctx.out(`${typeName(t.info)} "${t.name}" deleted\n`);
      deleted.push({ target: t, uid: res?.kind === 'Status' ? undefined : res?.metadata?.uid });
    } catch (err) {
      if (err instanceof ApiError && err.notFound && flags.ignoreNotFound) continue;
      if (!(err instanceof ApiError)) throw err;
      ctx.err(formatApiError(err, t.source ? `error when deleting "${t.source}"` : undefined) + '\n');
      exit = 1;
    }
  }
  if (flags.wait !== false && deleted.length > 0) {
    const timeoutMs = parseDuration(flags.timeout ?? '0s');
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
    let pending = deleted;
    let interval = 100;
    while (pending.length > 0) {
      const still: typeof pending = [];
      for (const d of pending) {
        try {
          const obj = await ctx.client.request<KubeObject>('GET', resourcePath(d.target.info, { namespace: d.target.namespace, name: d.target.name }));
          // A new object with the same name is not the one we deleted.
          if (!d.uid || obj.metadata?.uid === d.uid) still.push(d);
        } catch (err) {
          if (!(err instanceof ApiError && err.notFound)) throw err;
        }
      }
      pending = still;
      if (pending.length === 0) break;
      if (Date.now() > deadline) {
        for (const d of pending) ctx.err(`error: timed out waiting for the condition on ${d.target.info.resource}/${d.target.name}\n`);
        return 1;
      }
      await new Promise((r) => setTimeout(r, interval));
      interval = Math.min(interval * 2, 1_000);
    }
  }
  return exit;
}
