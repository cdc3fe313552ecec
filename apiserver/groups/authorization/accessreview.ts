import type { PolicyRule } from 'kubernetes-types/rbac/v1';
import { errors } from '../../errors';
import { base } from '../shared/defs';
import { type JsonObject, objectOr } from '../../json';
import type { ResourceDef, ReviewContext, UserInfo } from '../types';

/** SelfSubjectAccessReview, SubjectAccessReview and SelfSubjectRulesReview (authorization.k8s.io/v1): answered by the authorizer, never stored. */

/** Answer a (Self)SubjectAccessReview with the authorizer's decision for `user`. */
async function accessReview(kind: string, o: JsonObject, ctx: ReviewContext, user: UserInfo | undefined): Promise<JsonObject> {
  const spec = objectOr(o.spec);
  const attrs = spec.resourceAttributes ?? spec.nonResourceAttributes;
  if (!attrs || typeof attrs !== 'object') {
    throw errors.invalid(kind, 'authorization.k8s.io', '', [{ field: 'spec.resourceAttributes', reason: 'FieldValueRequired', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
  }
  const decision = await ctx.authorize(user, { ...attrs, nonResource: !spec.resourceAttributes });
  return {
    kind, apiVersion: 'authorization.k8s.io/v1',
    metadata: { ...((o.metadata ?? {}) as object), creationTimestamp: null },
    spec: o.spec,
    status: { allowed: decision.allowed, ...(decision.denied ? { denied: true } : {}), ...(decision.reason ? { reason: decision.reason } : {}) },
  };
}

export const SELF_SUBJECT_ACCESS_REVIEW: ResourceDef = {
  ...base, group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview', listKind: 'SelfSubjectAccessReviewList', plural: 'selfsubjectaccessreviews',
  singular: 'selfsubjectaccessreview', namespaced: false, verbs: ['create'],
  review: (o, ctx) => accessReview('SelfSubjectAccessReview', o, ctx, ctx.user),
};

export const SUBJECT_ACCESS_REVIEW: ResourceDef = {
  ...base, group: 'authorization.k8s.io', kind: 'SubjectAccessReview', listKind: 'SubjectAccessReviewList', plural: 'subjectaccessreviews',
  singular: 'subjectaccessreview', namespaced: false, verbs: ['create'],
  review(o, ctx) {
    const s = objectOr(o.spec);
    if ((typeof s.user !== 'string' || !s.user) && !(Array.isArray(s.groups) && s.groups.length)) {
      throw errors.invalid('SubjectAccessReview', 'authorization.k8s.io', '', [{ field: 'spec.user', message: 'Invalid value: "": at least one of user or group must be specified' }]);
    }
    const groups = Array.isArray(s.groups) ? s.groups.filter((g: unknown) => typeof g === 'string') : [];
    return accessReview('SubjectAccessReview', o, ctx, { name: typeof s.user === 'string' ? s.user : '', groups });
  },
};

export const SELF_SUBJECT_RULES_REVIEW: ResourceDef = {
  ...base, group: 'authorization.k8s.io', kind: 'SelfSubjectRulesReview', listKind: 'SelfSubjectRulesReviewList', plural: 'selfsubjectrulesreviews',
  singular: 'selfsubjectrulesreview', namespaced: false, verbs: ['create'],
  async review(o, ctx) {
    const ns = objectOr(o.spec).namespace;
    if (typeof ns !== 'string' || !ns) throw errors.invalid('SelfSubjectRulesReview', 'authorization.k8s.io', '', [{ field: 'spec.namespace', reason: 'FieldValueRequired', message: 'Required value: no namespace on request' }]);
    // rulesFor returns the authorizer's PolicyRules (rbac.ts)
      const rules = (ctx.user && ctx.rulesFor ? await ctx.rulesFor(ctx.user, ns) : []) as PolicyRule[];
    const resourceRules = rules.filter((r) => !r.nonResourceURLs?.length).map((r) => ({
      verbs: r.verbs ?? [], apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
    }));
    const nonResourceRules = rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs }));
    return {
      kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: { namespace: ns },
      status: { resourceRules, nonResourceRules, incomplete: !ctx.rulesFor },
    };
  },
};
