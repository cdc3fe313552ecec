import type { KubeObject, ObjectList } from '../../lib/client';
import { apiVersionOf, resourcePath } from '../../lib/resources';
import type { Ctx } from './context';
import { typeName, type ResourceInfo } from './discovery';
import { CliError } from './errors';
import { resolveRequests } from './get';

/** One existing object a verb acts on, as read from the server. */
export interface Target {
  info: ResourceInfo;
  name: string;
  namespace?: string;
  object: KubeObject;
}

export interface TargetFlags {
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
}

/** `deployment.apps/web`: how kubectl names an object in "… scaled"-style lines. */
export function objectName(t: Pick<Target, 'info' | 'name'>): string {
  return `${typeName(t.info)}/${t.name}`;
}

/** `deployments.apps`: the resource name kubectl puts in per-object errors. */
export function resourceString(info: Pick<ResourceInfo, 'resource' | 'group'>): string {
  return info.group ? `${info.resource}.${info.group}` : info.resource;
}

/**
 * Reads the objects named by kubectl-style arguments: `TYPE NAME…`,
 * `TYPE/NAME…`, or `TYPE` with `-l SELECTOR` or `--all`. A type without names
 * and without a selector is refused as kubectl refuses it.
 */
export async function readTargets(ctx: Ctx, args: string[], flags: TargetFlags = {}): Promise<Target[]> {
  if (flags.all && flags.selector) throw new CliError('cannot set --all and --selector at the same time');
  const resolved = await resolveRequests(ctx, args);
  const out: Target[] = [];
  for (const { info, names } of resolved) {
    const namespace = info.namespaced ? (flags.allNamespaces ? undefined : ctx.namespace) : undefined;
    if (names.length > 0) {
      if (flags.selector) throw new CliError('name cannot be provided when a selector is specified');
      for (const name of names) {
        const object = await ctx.client.request<KubeObject>('GET', resourcePath(info, { namespace, name }));
        out.push({ info, name, namespace: object.metadata?.namespace ?? namespace, object: withTypeMeta(object, info) });
      }
      continue;
    }
    if (!flags.selector && !flags.all) throw new CliError('resource(s) were provided, but no name was specified');
    const list = await ctx.client.request<ObjectList>('GET', resourcePath(info, { namespace }), { query: { labelSelector: flags.selector } });
    for (const object of list.items ?? []) {
      out.push({ info, name: object.metadata?.name ?? '', namespace: object.metadata?.namespace ?? namespace, object: withTypeMeta(object, info) });
    }
  }
  return out;
}

export function withTypeMeta(obj: KubeObject, info: ResourceInfo): KubeObject {
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(info), kind: obj.kind ?? info.kind };
}

/** The REST path of a target (optionally a subresource of it). */
export function targetPath(t: Pick<Target, 'info' | 'name' | 'namespace'>, subresource?: string): string {
  return resourcePath(t.info, { namespace: t.namespace, name: t.name, subresource });
}
