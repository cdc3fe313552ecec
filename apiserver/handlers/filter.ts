import type { ResourceDef } from '../groups/types';
import { keyPrefix } from '../registry';
import { type Query, param } from '../query';
import { type FieldSelector, type LabelSelector, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../selectors';
import type { ApiPath } from './context';

/** Which objects a list, watch or deletecollection is about: namespace, key prefix, selectors. */
export interface Filter { ns?: string; prefix?: string; labels: LabelSelector; fields: FieldSelector }

const BASE_FIELDS = ['metadata.name', 'metadata.namespace'];

/** The filter of a request: its namespace, `labelSelector`, `fieldSelector` (and the path's name). */
export function buildFilter(def: ResourceDef, p: ApiPath, query: Query): Filter {
  const supported = new Set([...BASE_FIELDS, ...def.fieldLabels]);
  const fields = parseFieldSelector(param(query, 'fieldSelector'), supported);
  if (p.name) fields.push({ field: 'metadata.name', op: '=', value: p.name });
  return {
    ns: def.namespaced ? p.namespace : undefined,
    prefix: def.namespaced && p.namespace ? keyPrefix(def, p.namespace) : undefined,
    labels: parseLabelSelector(param(query, 'labelSelector')),
    fields,
  };
}

interface ObjectMetaLike { metadata?: { namespace?: string; labels?: Record<string, string> } }

export function matches(f: Filter, obj: unknown): boolean {
  const meta = (obj as ObjectMetaLike | undefined)?.metadata;
  if (f.ns && meta?.namespace !== f.ns) return false;
  return matchesLabels(f.labels, meta?.labels) && matchesFields(f.fields, obj);
}
