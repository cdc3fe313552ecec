import type { NameRule } from './object-meta';
import type { Subresource } from '../types';

/**
 * The common fields of resource definitions (groups/types.ts ResourceDef): a kind spreads
 * one of these and states what differs.
 */

/** A namespaced kind without a spec/status split (ConfigMap, Endpoints, Role, ...). */
export const base = {
  version: 'v1', categories: [] as string[], shortNames: [] as string[], subresources: [] as Subresource[], nameRule: 'subdomain' as NameRule,
  hasStatus: false, statusOnCreate: 'keep' as 'keep' | 'clear', allowCreateOnUpdate: false, gracefulDelete: false, fieldLabels: [] as string[], namespaced: true,
};

/** A namespaced kind with a spec/status split and a status subresource. */
export const withStatus = { ...base, hasStatus: true, statusOnCreate: 'clear' as const, subresources: ['status'] as Subresource[] };
