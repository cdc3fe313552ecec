import { base } from '../shared/defs';
import type { ResourceDef, UserInfo } from '../types';

/** SelfSubjectReview (authentication.k8s.io/v1): who the request runs as; never stored. */

export const SELF_SUBJECT_REVIEW: ResourceDef = {
  ...base, group: 'authentication.k8s.io', kind: 'SelfSubjectReview', listKind: 'SelfSubjectReviewList', plural: 'selfsubjectreviews',
  singular: 'selfsubjectreview', namespaced: false, verbs: ['create'],
  review: (_o, ctx) => {
    const u: UserInfo = ctx.user ?? { name: '', groups: [] };
    return {
      kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null },
      status: { userInfo: { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}) } },
    };
  },
};
