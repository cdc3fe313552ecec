import type { NameRule } from './validation';
import type { ResourceDef, ReviewContext, Subresource } from './groups/types';
import { replicasScale } from './groups/autoscaling/scale';
import { defaultPodSpec } from './defaults';
import * as v from './validation-kinds';
import { errors } from './errors';

/**
 * The resources beyond the walking skeleton's, as data (see registry.ts for the fields):
 * configuration and storage (core/v1), workloads (apps, batch), networking, discovery,
 * autoscaling (v2 stored, v1 converted), coordination, storage, policy, RBAC (storage and
 * validation only; enforcement belongs to the authorizer) and SelfSubjectAccessReview.
 */

const base = {
  version: 'v1', categories: [] as string[], shortNames: [] as string[], subresources: [] as Subresource[], nameRule: 'subdomain' as NameRule,
  hasStatus: false, statusOnCreate: 'keep' as 'keep' | 'clear', allowCreateOnUpdate: false, gracefulDelete: false, fieldLabels: [] as string[], namespaced: true,
};
/** Kinds with a spec/status split and a status subresource. */
const withStatus = { ...base, hasStatus: true, statusOnCreate: 'clear' as const, subresources: ['status'] as Subresource[] };

const templateDefaults = (tpl: any) => { if (tpl && typeof tpl === 'object') defaultPodSpec(tpl.spec); };

function defaultJobSpec(s: any): void {
  if (!s || typeof s !== 'object') return;
  if (s.completions === undefined && s.parallelism === undefined) { s.completions = 1; s.parallelism = 1; }
  s.parallelism ??= 1;
  s.backoffLimit ??= s.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
  s.completionMode ??= 'NonIndexed';
  s.suspend ??= false;
  s.podReplacementPolicy ??= 'TerminatingOrFailed';
  templateDefaults(s.template);
}

/** Jobs get a selector on their own uid unless manualSelector (Kubernetes' job strategy). */
function generateJobSelector(o: any): void {
  const s = o.spec;
  if (!s || typeof s !== 'object' || s.manualSelector === true) return;
  const uid = o.metadata.uid;
  const labels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': o.metadata.name, 'controller-uid': uid, 'job-name': o.metadata.name };
  if (s.template && typeof s.template === 'object') {
    s.template.metadata ??= {};
    s.template.metadata.labels = { ...(s.template.metadata.labels ?? {}), ...labels };
  }
  s.selector ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
}

function hpaDefaults(o: any): void {
  const s = o.spec;
  if (!s || typeof s !== 'object') return;
  s.minReplicas ??= 1;
  if (!Array.isArray(s.metrics) || s.metrics.length === 0) s.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
}

/** autoscaling/v2 (stored) → autoscaling/v1: the CPU utilization target is the only metric v1 has. */
export function hpaV2toV1(o: any): any {
  const { metrics, behavior: _b, ...spec } = o.spec ?? {};
  const cpu = (metrics ?? []).find((m: any) => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization');
  const out: any = { ...o, apiVersion: 'autoscaling/v1', spec: { ...spec } };
  if (cpu) out.spec.targetCPUUtilizationPercentage = cpu.resource.target.averageUtilization;
  if (o.status) {
    const { currentMetrics, conditions: _c, ...st } = o.status;
    out.status = { ...st };
    const cur = (currentMetrics ?? []).find((m: any) => m?.type === 'Resource' && m.resource?.name === 'cpu');
    if (cur?.resource?.current?.averageUtilization !== undefined) out.status.currentCPUUtilizationPercentage = cur.resource.current.averageUtilization;
    out.status.currentReplicas ??= 0;
    out.status.desiredReplicas ??= 0;
  }
  return out;
}

/** autoscaling/v1 → autoscaling/v2 (storage). */
export function hpaV1toV2(o: any): any {
  if (!o || typeof o !== 'object') return o;
  const { targetCPUUtilizationPercentage: cpu, ...spec } = o.spec ?? {};
  const out: any = { ...o, apiVersion: 'autoscaling/v2', spec };
  if (o.spec === undefined) delete out.spec;
  if (cpu !== undefined) out.spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }];
  if (o.status && typeof o.status === 'object') {
    const { currentCPUUtilizationPercentage: cur, ...st } = o.status;
    out.status = { ...st };
    if (cur !== undefined) out.status.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cur } } }];
  }
  return out;
}

const HPA_COMMON = {
  ...withStatus, group: 'autoscaling', kind: 'HorizontalPodAutoscaler', listKind: 'HorizontalPodAutoscalerList', plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler', shortNames: ['hpa'], categories: ['all'],
};

export const MORE_RESOURCES: ResourceDef[] = [
  // ---------------------------------------------------------------- core/v1
  {
    ...base, group: '', kind: 'ConfigMap', listKind: 'ConfigMapList', plural: 'configmaps', singular: 'configmap', shortNames: ['cm'],
    validate: (o, _c, old) => v.validateConfigMap(o, old),
  },
  {
    ...base, group: '', kind: 'Secret', listKind: 'SecretList', plural: 'secrets', singular: 'secret', fieldLabels: ['type'],
    defaults(o) { o.type ??= 'Opaque'; v.mergeStringData(o); },
    validate: (o, _c, old) => v.validateSecret(o, old),
  },
  {
    ...base, group: '', kind: 'ServiceAccount', listKind: 'ServiceAccountList', plural: 'serviceaccounts', singular: 'serviceaccount', shortNames: ['sa'],
    validate: (o) => v.validateServiceAccount(o),
  },
  {
    ...withStatus, group: '', kind: 'PersistentVolume', listKind: 'PersistentVolumeList', plural: 'persistentvolumes', singular: 'persistentvolume', shortNames: ['pv'],
    namespaced: false,
    defaults(o) { const s = (o.spec ??= {}); s.persistentVolumeReclaimPolicy ??= 'Retain'; s.volumeMode ??= 'Filesystem'; },
    prepareForCreate(o) { o.status = { phase: 'Pending' }; },
    validate: (o, _c, old) => v.validatePersistentVolume(o, old),
  },
  {
    ...withStatus, group: '', kind: 'PersistentVolumeClaim', listKind: 'PersistentVolumeClaimList', plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim',
    shortNames: ['pvc'],
    defaults(o) { const s = (o.spec ??= {}); s.volumeMode ??= 'Filesystem'; },
    prepareForCreate(o) { o.status = { phase: 'Pending' }; },
    validate: (o, _c, old) => v.validatePersistentVolumeClaim(o, old),
  },
  {
    ...withStatus, group: '', kind: 'ResourceQuota', listKind: 'ResourceQuotaList', plural: 'resourcequotas', singular: 'resourcequota', shortNames: ['quota'],
    validate: (o) => v.validateResourceQuota(o),
  },
  {
    ...base, group: '', kind: 'LimitRange', listKind: 'LimitRangeList', plural: 'limitranges', singular: 'limitrange', shortNames: ['limits'],
    validate: (o) => v.validateLimitRange(o),
  },
  // ---------------------------------------------------------------- apps/v1
  {
    ...withStatus, group: 'apps', kind: 'StatefulSet', listKind: 'StatefulSetList', plural: 'statefulsets', singular: 'statefulset', shortNames: ['sts'],
    categories: ['all'], subresources: ['status', 'scale'],
    strategy: { scale: replicasScale },
    defaults(o) {
      const s = (o.spec ??= {});
      s.replicas ??= 1;
      s.podManagementPolicy ??= 'OrderedReady';
      s.updateStrategy ??= { type: 'RollingUpdate' };
      if (s.updateStrategy.type === 'RollingUpdate') { s.updateStrategy.rollingUpdate ??= {}; s.updateStrategy.rollingUpdate.partition ??= 0; }
      s.revisionHistoryLimit ??= 10;
      s.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
      templateDefaults(s.template);
    },
    prepareForCreate(o) { o.status = { replicas: 0, availableReplicas: 0 }; },
    validate: (o, _c, old) => v.validateStatefulSet(o, old),
  },
  {
    ...withStatus, group: 'apps', kind: 'DaemonSet', listKind: 'DaemonSetList', plural: 'daemonsets', singular: 'daemonset', shortNames: ['ds'], categories: ['all'],
    defaults(o) {
      const s = (o.spec ??= {});
      s.updateStrategy ??= { type: 'RollingUpdate' };
      if (s.updateStrategy.type === 'RollingUpdate') { s.updateStrategy.rollingUpdate ??= {}; s.updateStrategy.rollingUpdate.maxUnavailable ??= 1; s.updateStrategy.rollingUpdate.maxSurge ??= 0; }
      s.revisionHistoryLimit ??= 10;
      templateDefaults(s.template);
    },
    prepareForCreate(o) { o.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }; },
    validate: (o, _c, old) => v.validateDaemonSet(o, old),
  },
  {
    ...base, group: 'apps', kind: 'ControllerRevision', listKind: 'ControllerRevisionList', plural: 'controllerrevisions', singular: 'controllerrevision',
    validate: (o, _c, old) => v.validateControllerRevision(o, old),
  },
  // ---------------------------------------------------------------- batch/v1
  {
    ...withStatus, group: 'batch', kind: 'Job', listKind: 'JobList', plural: 'jobs', singular: 'job', categories: ['all'], fieldLabels: ['status.successful'],
    defaults(o) { defaultJobSpec(o.spec); },
    prepareForCreate(o) { generateJobSelector(o); o.status = {}; },
    validate: (o, _c, old) => v.validateJob(o, old),
  },
  {
    ...withStatus, group: 'batch', kind: 'CronJob', listKind: 'CronJobList', plural: 'cronjobs', singular: 'cronjob', shortNames: ['cj'], categories: ['all'],
    defaults(o) {
      const s = (o.spec ??= {});
      s.concurrencyPolicy ??= 'Allow';
      s.suspend ??= false;
      s.successfulJobsHistoryLimit ??= 3;
      s.failedJobsHistoryLimit ??= 1;
      if (s.jobTemplate?.spec) {
        const js = s.jobTemplate.spec;
        js.backoffLimit ??= 6; js.completionMode ??= 'NonIndexed'; js.suspend ??= false; js.podReplacementPolicy ??= 'TerminatingOrFailed';
        if (js.completions === undefined && js.parallelism === undefined) { js.completions = 1; js.parallelism = 1; }
        templateDefaults(js.template);
      }
    },
    prepareForCreate(o) { o.status = {}; },
    validate: (o) => v.validateCronJob(o),
  },
  // ---------------------------------------------------------------- networking.k8s.io/v1
  {
    ...withStatus, group: 'networking.k8s.io', kind: 'Ingress', listKind: 'IngressList', plural: 'ingresses', singular: 'ingress', shortNames: ['ing'],
    prepareForCreate(o) { o.status = { loadBalancer: {} }; },
    validate: (o) => v.validateIngress(o),
  },
  {
    ...base, group: 'networking.k8s.io', kind: 'IngressClass', listKind: 'IngressClassList', plural: 'ingressclasses', singular: 'ingressclass', namespaced: false,
    validate: (o, _c, old) => v.validateIngressClass(o, old),
  },
  {
    ...base, group: 'networking.k8s.io', kind: 'NetworkPolicy', listKind: 'NetworkPolicyList', plural: 'networkpolicies', singular: 'networkpolicy', shortNames: ['netpol'],
    defaults(o) {
      const s = (o.spec ??= {});
      s.podSelector ??= {};
      if (!Array.isArray(s.policyTypes) || s.policyTypes.length === 0) s.policyTypes = ['Ingress', ...(Array.isArray(s.egress) && s.egress.length ? ['Egress'] : [])];
      for (const r of [...(s.ingress ?? []), ...(s.egress ?? [])]) for (const p of r?.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
    },
    validate: (o) => v.validateNetworkPolicy(o),
  },
  // ---------------------------------------------------------------- discovery.k8s.io/v1
  {
    ...base, group: 'discovery.k8s.io', kind: 'EndpointSlice', listKind: 'EndpointSliceList', plural: 'endpointslices', singular: 'endpointslice',
    defaults(o) { for (const p of o.ports ?? []) if (p && typeof p === 'object') { p.protocol ??= 'TCP'; p.name ??= ''; } },
    validate: (o, _c, old) => v.validateEndpointSlice(o, old),
  },
  // ---------------------------------------------------------------- autoscaling (v2 is the storage version)
  { ...HPA_COMMON, version: 'v2', defaults: hpaDefaults, validate: (o) => v.validateHPA(o) },
  { ...HPA_COMMON, version: 'v1', storageVersion: { version: 'v2', toStorage: hpaV1toV2, fromStorage: hpaV2toV1 } },
  // ---------------------------------------------------------------- coordination.k8s.io/v1
  {
    ...base, group: 'coordination.k8s.io', kind: 'Lease', listKind: 'LeaseList', plural: 'leases', singular: 'lease',
    validate: (o) => v.validateLease(o),
  },
  // ---------------------------------------------------------------- storage.k8s.io/v1
  {
    ...base, group: 'storage.k8s.io', kind: 'StorageClass', listKind: 'StorageClassList', plural: 'storageclasses', singular: 'storageclass', shortNames: ['sc'],
    namespaced: false,
    defaults(o) { o.reclaimPolicy ??= 'Delete'; o.volumeBindingMode ??= 'Immediate'; },
    validate: (o, _c, old) => v.validateStorageClass(o, old),
  },
  // ---------------------------------------------------------------- policy/v1
  {
    ...withStatus, group: 'policy', kind: 'PodDisruptionBudget', listKind: 'PodDisruptionBudgetList', plural: 'poddisruptionbudgets', singular: 'poddisruptionbudget',
    shortNames: ['pdb'],
    prepareForCreate(o) { o.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 }; },
    validate: (o) => v.validatePDB(o),
  },
  // ---------------------------------------------------------------- rbac.authorization.k8s.io/v1
  {
    ...base, group: 'rbac.authorization.k8s.io', nameRule: 'path', kind: 'Role', listKind: 'RoleList', plural: 'roles', singular: 'role', validate: (o) => v.validateRole(o),
  },
  {
    ...base, group: 'rbac.authorization.k8s.io', nameRule: 'path', kind: 'ClusterRole', listKind: 'ClusterRoleList', plural: 'clusterroles', singular: 'clusterrole', namespaced: false,
    validate: (o) => v.validateClusterRole(o),
  },
  {
    ...base, group: 'rbac.authorization.k8s.io', nameRule: 'path', kind: 'RoleBinding', listKind: 'RoleBindingList', plural: 'rolebindings', singular: 'rolebinding',
    validate: (o, _c, old) => v.validateBinding(o, old, false),
  },
  {
    ...base, group: 'rbac.authorization.k8s.io', nameRule: 'path', kind: 'ClusterRoleBinding', listKind: 'ClusterRoleBindingList', plural: 'clusterrolebindings', singular: 'clusterrolebinding',
    namespaced: false, validate: (o, _c, old) => v.validateBinding(o, old, true),
  },
  // ---------------------------------------------------------------- authorization.k8s.io/v1, authentication.k8s.io/v1
  // Reviews: answered by the authorizer / authenticator, never stored (ReviewContext).
  {
    ...base, group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview', listKind: 'SelfSubjectAccessReviewList', plural: 'selfsubjectaccessreviews',
    singular: 'selfsubjectaccessreview', namespaced: false, verbs: ['create'],
    review: (o, ctx) => accessReview('SelfSubjectAccessReview', o, ctx, ctx.user),
  },
  {
    ...base, group: 'authorization.k8s.io', kind: 'SubjectAccessReview', listKind: 'SubjectAccessReviewList', plural: 'subjectaccessreviews',
    singular: 'subjectaccessreview', namespaced: false, verbs: ['create'],
    review(o, ctx) {
      const s = o?.spec ?? {};
      if ((typeof s.user !== 'string' || !s.user) && !(Array.isArray(s.groups) && s.groups.length)) {
        throw errors.invalid('SubjectAccessReview', 'authorization.k8s.io', '', [{ field: 'spec.user', message: 'Invalid value: "": at least one of user or group must be specified' }]);
      }
      const groups = Array.isArray(s.groups) ? s.groups.filter((g: unknown) => typeof g === 'string') : [];
      return accessReview('SubjectAccessReview', o, ctx, { name: typeof s.user === 'string' ? s.user : '', groups });
    },
  },
  {
    ...base, group: 'authorization.k8s.io', kind: 'SelfSubjectRulesReview', listKind: 'SelfSubjectRulesReviewList', plural: 'selfsubjectrulesreviews',
    singular: 'selfsubjectrulesreview', namespaced: false, verbs: ['create'],
    async review(o, ctx) {
      const ns = o?.spec?.namespace;
      if (typeof ns !== 'string' || !ns) throw errors.invalid('SelfSubjectRulesReview', 'authorization.k8s.io', '', [{ field: 'spec.namespace', reason: 'FieldValueRequired', message: 'Required value: no namespace on request' }]);
      const rules: any[] = ctx.user && ctx.rulesFor ? await ctx.rulesFor(ctx.user, ns) : [];
      const resourceRules = rules.filter((r) => !r.nonResourceURLs?.length).map((r) => ({
        verbs: r.verbs ?? [], apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
      }));
      const nonResourceRules = rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs }));
      return {
        kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: { namespace: ns },
        status: { resourceRules, nonResourceRules, incomplete: !ctx.rulesFor },
      };
    },
  },
  {
    ...base, group: 'authentication.k8s.io', kind: 'SelfSubjectReview', listKind: 'SelfSubjectReviewList', plural: 'selfsubjectreviews',
    singular: 'selfsubjectreview', namespaced: false, verbs: ['create'],
    review: (_o, ctx) => {
      const u: any = ctx.user ?? { name: '', groups: [] };
      return {
        kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null },
        status: { userInfo: { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}) } },
      };
    },
  },
];

/** Answer a (Self)SubjectAccessReview with the authorizer's decision for `user`. */
async function accessReview(kind: string, o: any, ctx: ReviewContext, user: { name: string; groups: string[] } | undefined): Promise<any> {
  const attrs = o?.spec?.resourceAttributes ?? o?.spec?.nonResourceAttributes;
  if (!attrs || typeof attrs !== 'object') {
    throw errors.invalid(kind, 'authorization.k8s.io', '', [{ field: 'spec.resourceAttributes', reason: 'FieldValueRequired', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
  }
  const decision = await ctx.authorize(user, { ...attrs, nonResource: !o.spec.resourceAttributes });
  return {
    kind, apiVersion: 'authorization.k8s.io/v1',
    metadata: { ...(o.metadata ?? {}), creationTimestamp: null },
    spec: o.spec,
    status: { allowed: decision.allowed, ...(decision.denied ? { denied: true } : {}), ...(decision.reason ? { reason: decision.reason } : {}) },
  };
}
