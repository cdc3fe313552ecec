/**
 * What the user may do, asked of the apiserver with SelfSubjectAccessReviews
 * (one per verb, resource and namespace, cached for the page's life), so the
 * dashboard can disable the buttons the user's RBAC roles would refuse.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api';

export interface Access {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
}

interface Review {
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

const cache = new Map<string, Promise<boolean>>();

export function can(a: Access): Promise<boolean> {
  const k = JSON.stringify([a.verb, a.group, a.resource, a.subresource ?? '', a.namespace ?? '']);
  let p = cache.get(k);
  if (!p) {
    p = api<Review>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: a.verb, group: a.group, resource: a.resource, subresource: a.subresource, namespace: a.namespace } },
    })
      .then((r) => r.status?.allowed === true)
      // The review itself refused: let the button try and show the server's answer.
      .catch(() => true);
    cache.set(k, p);
  }
  return p;
}

/** undefined while asking, then whether the user may. */
export function useCan(a: Access): boolean | undefined {
  const [allowed, setAllowed] = useState<boolean | undefined>(undefined);
  const k = JSON.stringify(a);
  useEffect(() => {
    let live = true;
    void can(a).then((v) => live && setAllowed(v));
    return () => {
      live = false;
    };
    // (a is described completely by k)
  }, [k]);
  return allowed;
}
