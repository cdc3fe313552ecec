import { ApiError, type KubeObject } from '../../lib/client';
import { resourcePath } from '../../lib/resources';
import type { Ctx } from './context';
import { typeName, UnknownResourceError, type ResourceInfo } from './discovery';
import { formatApiError, formatError } from './errors';
import { readManifests, type ManifestObject } from './manifests';
import { Progress } from './progress';

export interface ApplyFlags {
  filename: string[];
  recursive?: boolean;
  fieldManager?: string;
  forceConflicts?: boolean;
  dryRun?: string;
}

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

/** The object without what changes on every write (resourceVersion, managedFields timestamps). */
function comparable(o: KubeObject): string {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = o.metadata ?? {};
  return JSON.stringify({ ...o, metadata: meta }, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/**
 * created when it did not exist; unchanged when the server kept the
 * resourceVersion, or rewrote an identical object (a server that does not skip
 * no-op writes); configured otherwise.
 */
export function applyOutcome(before: KubeObject | undefined, after: KubeObject): ApplyOutcome {
  if (!before) return 'created';
  if (before.metadata?.resourceVersion === after.metadata?.resourceVersion) return 'unchanged';
  return comparable(before) === comparable(after) ? 'unchanged' : 'configured';
}

/**
 * The namespace an object goes to: its own, else the command's; a mismatch
 * with an explicit -n is an error, as in kubectl.
 */
export function targetNamespace(obj: KubeObject, info: Pick<ResourceInfo, 'namespaced'>, ctxNamespace: string, explicit: boolean): string | undefined {
  if (!info.namespaced) return undefined;
  const own = obj.metadata?.namespace;
  if (own && explicit && own !== ctxNamespace) {
    throw new Error(`the namespace from the provided object "${own}" does not match the namespace "${ctxNamespace}". You must pass '--namespace=${own}' to perform this operation.`);
  }
  return own || ctxNamespace;
}

/**
 * `coxctl apply -f`: server-side apply of every object (PATCH
 * application/apply-patch+yaml, fieldManager coxctl, force), which creates
 * missing objects. One failing object does not stop the others; the exit code
 * is 1 if any failed.
 */
export async function runApply(ctx: Ctx, flags: ApplyFlags): Promise<number> {
  if (!flags.filename?.length) throw new Error('must specify one of -f and -k');
  const manifests = await readManifests(flags.filename, { recursive: !!flags.recursive, stdin: ctx.io.stdin });
  if (manifests.length === 0) throw new Error('no objects passed to apply');
  let exit = 0;
  const progress = new Progress(ctx.io.stderr, manifests.length, 'applying');
  for (const m of manifests) {
    try {
      const line = await applyOne(ctx, m, flags);
      progress.clear();
      ctx.out(`${line}\n`);
    } catch (err) {
      exit = 1;
      progress.clear();
      ctx.err(describeFailure(err, m, 'applying', ctx.server) + '\n');
    }
    progress.tick();
  }
  progress.end();
  return exit;
}

export function describeFailure(err: unknown, m: ManifestObject, verb: string, server = ''): string {
  const name = m.object.metadata?.name ?? '';
  if (err instanceof ApiError) {
    if (err.code === 401 || err.reason === 'Invalid') return formatApiError(err);
    return formatApiError(err, `error when ${verb} "${m.source}"`);
  }
  if (err instanceof UnknownResourceError) {
    return `error: resource mapping not found for name: "${name}" namespace: "${m.object.metadata?.namespace ?? ''}" from "${m.source}": ${err.message}`;
  }
  return formatError(err, server);
}

async function applyOne(ctx: Ctx, m: ManifestObject, flags: ApplyFlags): Promise<string> {
  const obj = m.object;
  const info = await ctx.discovery.forKind(obj.apiVersion!, obj.kind!);
  const name = obj.metadata?.name;
  if (!name) throw new Error(`error when retrieving current configuration of ${m.source}: resource name may not be empty`);
  const ns = targetNamespace(obj, info, ctx.namespace, !!ctx.flags.namespace);
  const before = await ctx.client
    .request<KubeObject>('GET', resourcePath(info, { namespace: ns, name }))
    .catch((err) => (err instanceof ApiError && err.notFound ? undefined : Promise.reject(err)));
  const body = ns ? { ...obj, metadata: { ...obj.metadata, namespace: ns } } : obj;
  const after = await ctx.client.request<KubeObject>('PATCH', resourcePath(info, { namespace: ns, name }), {
    body: JSON.stringify(body),
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: flags.fieldManager ?? 'coxctl', force: flags.forceConflicts === false ? 'false' : 'true', dryRun: flags.dryRun === 'server' ? 'All' : undefined },
  });
  const outcome = applyOutcome(before, after);
  return `${typeName(info)}/${name} ${outcome}${flags.dryRun === 'server' ? ' (server dry run)' : ''}`;
}
