import type { Attributes } from './rbac';
import { parseApiPath, verbOf } from './rest';

/**
 * The authorization attributes of an HTTP request, as Kubernetes' RequestInfoFactory derives
 * them: /api and /apis paths with a resource are resource requests (verb from the method and
 * watch/name; namespace from the path, the namespace's own name for /namespaces/<name>; a
 * list/watch with fieldSelector metadata.name=<n> carries that name); everything else is a
 * non-resource request with the lower-cased method as its verb.
 */
export function requestAttributes(method: string, url: string, query: Record<string, unknown>): Attributes {
  const path = url.split('?')[0];
  const p = parseApiPath(path.replace(/\/+$/, ''));
  if (!p || !p.resource) return { nonResource: true, path, verb: method.toLowerCase() };
  let verb: string = verbOf(method, p, query) ?? method.toLowerCase();
  // WebSocket upgrades of streaming subresources need "create" (Kubernetes 1.30+)
  if (method === 'GET' && p.subresource && ['exec', 'attach', 'portforward'].includes(p.subresource)) verb = 'create';
  if (p.subresource === 'log' || p.subresource === 'proxy') verb = method === 'GET' ? 'get' : verb;
  let name = p.name;
  if (!name && (verb === 'list' || verb === 'watch')) {
    const fs = query.fieldSelector;
    const m = typeof fs === 'string' ? /^metadata\.name==?([^,]+)$/.exec(fs) : null;
    if (m) name = m[1];
  }
  const namespace = p.resource === 'namespaces' && p.name ? p.name : p.namespace;
  return {
    verb, group: p.group, version: p.version, resource: p.resource,
    ...(p.subresource ? { subresource: p.subresource } : {}),
    ...(name ? { name } : {}),
    ...(namespace ? { namespace } : {}),
  };
}

export const MUTATING_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
