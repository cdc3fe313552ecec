import type { ResourceDef } from './types';
import { APPS } from './apps';
import { SELF_SUBJECT_REVIEW } from './authentication/selfsubjectreview';
import { SELF_SUBJECT_ACCESS_REVIEW, SELF_SUBJECT_RULES_REVIEW, SUBJECT_ACCESS_REVIEW } from './authorization/accessreview';
import { AUTOSCALING } from './autoscaling';
import { BATCH } from './batch';
import { LEASE } from './coordination/lease';
import { CORE } from './core';
import { ENDPOINT_SLICE } from './discovery/endpointslice';
import { NETWORKING } from './networking';
import { POD_DISRUPTION_BUDGET } from './policy/poddisruptionbudget';
import { RBAC } from './rbac';
import { STORAGE_CLASS } from './storage/storageclass';

/**
 * Every served resource, by API group: one module per group (groups/<group>/index.ts), one file
 * per kind holding its definition, defaults, validation, printer columns and storage strategy.
 * Groups with a single kind are listed by that kind's module.
 */
export const RESOURCES: ResourceDef[] = [
  ...CORE,
  ...APPS,
  ...BATCH,
  ...NETWORKING,
  ENDPOINT_SLICE, // discovery.k8s.io
  ...AUTOSCALING,
  LEASE, // coordination.k8s.io
  STORAGE_CLASS, // storage.k8s.io
  POD_DISRUPTION_BUDGET, // policy
  ...RBAC,
  SELF_SUBJECT_ACCESS_REVIEW, SUBJECT_ACCESS_REVIEW, SELF_SUBJECT_RULES_REVIEW, // authorization.k8s.io
  SELF_SUBJECT_REVIEW, // authentication.k8s.io
];
