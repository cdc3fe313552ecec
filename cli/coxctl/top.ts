import type { Node, Pod } from 'kubernetes-types/core/v1';
import { goDuration } from '../../lib/duration';
import { NODES, PODS, resourcePath } from '../../lib/resources';
import type { Ctx } from './context';
import { CliError } from './errors';
import { type NodeMetrics, type PodMetrics, formatTopNodes, formatTopPods } from './top-print';

/**
 * `coxctl top node|pod`: kubectl top's requests, checks and messages over the Metrics API
 * (metrics.k8s.io/v1beta1); the tables come from top-print.ts.
 */

export interface TopNodeFlags { selector?: string; noHeaders?: boolean; sortBy?: string; showCapacity?: boolean }
export interface TopPodFlags extends TopNodeFlags { allNamespaces?: boolean; containers?: boolean; fieldSelector?: string; sum?: boolean }

const METRICS = '/apis/metrics.k8s.io/v1beta1';
/** kubectl waits this long after a pod's creation before calling its missing metrics an error. */
const CREATION_DELAY_MS = 2 * 60_000;

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function checkSortBy(sortBy: string | undefined): void {
  if (sortBy && sortBy !== 'cpu' && sortBy !== 'memory') throw new CliError('--sort-by accepts only cpu or memory');
}

/** As kubectl: the group must be in discovery, or "Metrics API not available". */
async function requireMetricsApi(ctx: Ctx): Promise<void> {
  const groups = await ctx.client.request<{ groups?: { name: string; versions?: { version: string }[] }[] }>('GET', '/apis');
  const g = groups.groups?.find((x) => x.name === 'metrics.k8s.io');
  if (!g?.versions?.some((v) => v.version === 'v1beta1')) throw new CliError('Metrics API not available');
}

export async function runTopNodes(ctx: Ctx, name: string | undefined, flags: TopNodeFlags): Promise<number> {
  checkSortBy(flags.sortBy);
  if (name && flags.selector) throw new CliError('only one of NAME or --selector can be provided');
  await requireMetricsApi(ctx);
  const metrics: NodeMetrics[] = name
    ? [await ctx.client.request<NodeMetrics>('GET', `${METRICS}/nodes/${encodeURIComponent(name)}`)]
    : (await ctx.client.request<{ items: NodeMetrics[] }>('GET', `${METRICS}/nodes${query({ labelSelector: flags.selector })}`)).items ?? [];
  if (metrics.length === 0) throw new CliError('metrics not available yet');
  const nodes: Node[] = name
    ? [await ctx.client.request<Node>('GET', resourcePath(NODES, { name }))]
    : (await ctx.client.request<{ items: Node[] }>('GET', `${resourcePath(NODES)}${query({ labelSelector: flags.selector })}`)).items ?? [];
  const available = new Map(nodes.map((n) => [n.metadata?.name ?? '', (flags.showCapacity ? n.status?.capacity : n.status?.allocatable) ?? {}]));
  ctx.out(formatTopNodes(metrics, available, flags));
  return 0;
}

export async function runTopPods(ctx: Ctx, name: string | undefined, flags: TopPodFlags): Promise<number> {
  checkSortBy(flags.sortBy);
  if (name && flags.selector) throw new CliError('only one of NAME or --selector can be provided');
  await requireMetricsApi(ctx);
  const ns = flags.allNamespaces ? undefined : ctx.namespace;
  const base = ns ? `${METRICS}/namespaces/${encodeURIComponent(ns)}/pods` : `${METRICS}/pods`;
  const sel = { labelSelector: flags.selector, fieldSelector: flags.fieldSelector };
  const metrics: PodMetrics[] = name
    ? [await ctx.client.request<PodMetrics>('GET', `${base}/${encodeURIComponent(name)}`)]
    : (await ctx.client.request<{ items: PodMetrics[] }>('GET', `${base}${query(sel)}`)).items ?? [];
  if (metrics.length === 0) {
    // pods there but no metrics: an error, worded by the pods' age; no pods: say so
    const pods = (await ctx.client.request<{ items: Pod[] }>('GET', `${resourcePath(PODS, { namespace: ns })}${query(sel)}`)).items ?? [];
    if (pods.length > 0) {
      const old = pods.find((p) => Date.now() - Date.parse(p.metadata?.creationTimestamp ?? '') > CREATION_DELAY_MS);
      if (old) throw new CliError(`Metrics not available for pod ${old.metadata?.namespace}/${old.metadata?.name}, age: ${goDuration(Date.now() - Date.parse(old.metadata?.creationTimestamp ?? ''))}`);
      throw new CliError('metrics not available yet');
    }
    ctx.err(ns ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
    return 0;
  }
  ctx.out(formatTopPods(metrics, { ...flags, allNamespaces: !!flags.allNamespaces }));
  return 0;
}

