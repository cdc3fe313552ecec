import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../errors';
import { base } from '../groups/shared/defs';
import type { ResourceDef } from '../groups/types';
import type { ApiPath } from '../handlers/context';
import { sendJson } from '../handlers/respond';
import { type Query, boolParam, param } from '../query';
import type { Registry } from '../registry';
import type { ResourceStorage } from '../resources';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../selectors';
import { METRICS_GROUP, METRICS_VERSION, type MetricsStore, metricsList, nodeMetrics, podMetrics } from './core';
import type { ApiObject } from '../api-object';

/**
 * The metrics.k8s.io/v1beta1 REST endpoints, read-only as metrics-server serves them:
 *   GET /apis/metrics.k8s.io/v1beta1/nodes[/NAME]                     NodeMetrics(List)
 *   GET /apis/metrics.k8s.io/v1beta1/[namespaces/NS/]pods[/NAME]      PodMetrics(List)
 * with labelSelector and fieldSelector (metadata.name, metadata.namespace) matched against the
 * Nodes and Pods themselves. Objects without usage yet (fewer than two samples) are left out
 * of lists and are NotFound when named. Any other method, and watch, is 405 MethodNotAllowed.
 * Authorization happened before (RBAC on group metrics.k8s.io, resources nodes and pods).
 */

const readOnly = { ...base, version: METRICS_VERSION, group: METRICS_GROUP, verbs: ['get', 'list'] };

/** The two resources as discovery lists them (never stored; not in the registry). */
export const METRICS_DEFS: ResourceDef[] = [
  { ...readOnly, kind: 'NodeMetrics', listKind: 'NodeMetricsList', plural: 'nodes', singular: '', namespaced: false },
  { ...readOnly, kind: 'PodMetrics', listKind: 'PodMetricsList', plural: 'pods', singular: '', namespaced: true },
];

const FIELDS = { nodes: new Set(['metadata.name']), pods: new Set(['metadata.name', 'metadata.namespace']) };

export interface MetricsApiDeps {
  store: MetricsStore;
  storage: ResourceStorage;
  registry: Registry;
  now?: () => number;
}

export class MetricsApi {
  private readonly nodeDef: ResourceDef;
  private readonly podDef: ResourceDef;

  constructor(private readonly d: MetricsApiDeps) {
    const nodeDef = d.registry.lookup('', 'v1', 'nodes');
    const podDef = d.registry.lookup('', 'v1', 'pods');
    if (!nodeDef || !podDef) throw new Error('metrics API: the registry has no nodes or pods');
    this.nodeDef = nodeDef;
    this.podDef = podDef;
  }

  /** Answers one request on a metrics.k8s.io path (`p.group` is metrics.k8s.io). */
  async handle(req: FastifyRequest, reply: FastifyReply, p: ApiPath): Promise<FastifyReply> {
    const def = p.version === METRICS_VERSION ? METRICS_DEFS.find((x) => x.plural === p.resource) : undefined;
    if (!def || p.subresource || (!def.namespaced && p.namespace)) throw errors.pathNotFound();
    const labels = req.apiLabels;
    const query = (req.query ?? {}) as Query;
    const watch = p.watchPath || boolParam(query, 'watch');
    if (labels) labels.resource = def.plural;
    if (req.method !== 'GET' || watch) throw errors.methodNotAllowed(watch ? 'watch' : req.method, `${def.plural}.${METRICS_GROUP}`);
    if (labels) labels.verb = p.name ? 'get' : 'list';
    const now = (this.d.now ?? Date.now)();
    if (def.plural === 'nodes') {
      if (p.name) return sendJson(reply, 200, JSON.stringify(this.node(await this.object(this.nodeDef, undefined, p.name, `${p.name}`, 'nodemetrics'), now, p.name)));
      const items = (await this.list(this.nodeDef, undefined, query, FIELDS.nodes)).map((n) => this.nodeOrNone(n, now)).filter(Boolean);
      return sendJson(reply, 200, JSON.stringify(metricsList('NodeMetricsList', items)));
    }
    if (p.name) {
      const ns = p.namespace ?? '';
      return sendJson(reply, 200, JSON.stringify(this.pod(await this.object(this.podDef, ns, p.name, `${ns}/${p.name}`, 'podmetrics'), now, `${ns}/${p.name}`)));
    }
    const items = (await this.list(this.podDef, p.namespace, query, FIELDS.pods)).map((o) => this.podOrNone(o, now)).filter(Boolean);
    return sendJson(reply, 200, JSON.stringify(metricsList('PodMetricsList', items)));
  }

  private async object(def: ResourceDef, ns: string | undefined, name: string, shown: string, resource: string): Promise<ApiObject> {
    try {
      return (await this.d.storage.get(def, ns, name)).obj;
    } catch (err) {
      if ((err as { reason?: string }).reason === 'NotFound') throw errors.notFound(resource, METRICS_GROUP, shown);
      throw err;
    }
  }

  private async list(def: ResourceDef, ns: string | undefined, query: Query, fields: ReadonlySet<string>): Promise<ApiObject[]> {
    const ls = parseLabelSelector(param(query, 'labelSelector'));
    const fs = parseFieldSelector(param(query, 'fieldSelector'), fields);
    const { items } = await this.d.storage.list(def, ns, '0');
    return items.map((c) => c.obj).filter((o) => matchesLabels(ls, o.metadata?.labels ?? {}) && matchesFields(fs, o));
  }

  private nodeOrNone(n: ApiObject, now: number): Record<string, unknown> | undefined {
    const u = this.d.store.nodeUsage(String(n.metadata?.name ?? ''));
    return u ? nodeMetrics(n.metadata, u, now) : undefined;
  }

  private podOrNone(o: ApiObject, now: number): Record<string, unknown> | undefined {
    const m = o.metadata ?? {};
    const u = this.d.store.podUsage(String(m.namespace ?? ''), String(m.name ?? ''), typeof m.uid === 'string' ? m.uid : undefined);
    return u ? podMetrics(m, u, now) : undefined;
  }

  private node(n: ApiObject, now: number, shown: string): Record<string, unknown> {
    const r = this.nodeOrNone(n, now);
    if (!r) throw errors.notFound('nodemetrics', METRICS_GROUP, shown);
    return r;
  }

  private pod(o: ApiObject, now: number, shown: string): Record<string, unknown> {
    const r = this.podOrNone(o, now);
    if (!r) throw errors.notFound('podmetrics', METRICS_GROUP, shown);
    return r;
  }
}
