import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject, type ObjectList } from '../../lib/client';
import { PODS, resourcePath } from '../../lib/resources';
import type { Ctx } from './context';
import { CliError } from './errors';
import { byActive, byLogging, podSelectorOf, splitTypeName } from './pod-select';

export interface PodTarget {
  pod: Pod;
  /** How many pods matched the workload's selector (1 for a pod named directly). */
  matched: number;
  /** The object named (the pod itself, or the workload/Service). */
  object: KubeObject;
}

/** Thrown with the server's NotFound when the named object does not exist; callers word it their way. */
export class TargetNotFound extends Error {
  constructor(readonly apiError: ApiError) {
    super(apiError.message);
  }
}

/**
 * Finds the pod `POD` or `TYPE/NAME` stands for, as kubectl does: a pod as is; a workload or
 * Service through its selector, the best pod first (`order`: kubectl's ByLogging for logs,
 * reversed ActivePods for exec and port-forward); when none matches yet, waits up to
 * `timeoutMs` for one to appear.
 */
export async function findPod(ctx: Ctx, arg: string, order: 'logging' | 'active', timeoutMs: number): Promise<PodTarget> {
  const { type, name } = splitTypeName(arg);
  const info = type ? await ctx.discovery.resolve(type) : undefined;
  const ns = ctx.namespace;
  const isPod = !info || (info.group === '' && info.resource === 'pods');
  const path = isPod ? resourcePath(PODS, { namespace: ns, name }) : resourcePath(info!, { namespace: info!.namespaced ? ns : undefined, name });
  let object: KubeObject;
  try {
    object = await ctx.client.request<KubeObject>('GET', path);
  } catch (err) {
    if (err instanceof ApiError && err.notFound) throw new TargetNotFound(err);
    throw err;
  }
  if (isPod) return { pod: object as Pod, matched: 1, object };
  object = { ...object, kind: object.kind ?? info!.kind };
  const selector = podSelectorOf(object as Parameters<typeof podSelectorOf>[0]);
  const list = await ctx.client.request<ObjectList<Pod>>('GET', resourcePath(PODS, { namespace: ns }), { query: { labelSelector: selector } });
  const pods = [...list.items].sort(order === 'logging' ? byLogging : byActive);
  if (pods.length > 0) return { pod: pods[0], matched: pods.length, object };
  const pod = await waitForFirstPod(ctx, ns, selector, list.metadata.resourceVersion, timeoutMs);
  return { pod, matched: 1, object };
}

async function waitForFirstPod(ctx: Ctx, ns: string, selector: string, resourceVersion: string | undefined, timeoutMs: number): Promise<Pod> {
  const abort = new AbortController();
  let found: Pod | undefined;
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    await ctx.client.watch<Pod>(PODS, { namespace: ns, labelSelector: selector, resourceVersion, signal: abort.signal }, (ev) => {
      if (!found && (ev.type === 'ADDED' || ev.type === 'MODIFIED')) {
        found = ev.object;
        abort.abort();
      }
    });
  } finally {
    clearTimeout(timer);
  }
  if (!found) throw new CliError('timed out waiting for the condition');
  return found;
}
