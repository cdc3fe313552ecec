/**
 * Defaulting shared by several kinds (pod templates) and computed pod fields (QoS class),
 * following Kubernetes' pkg/apis/core/v1/defaults.go and pkg/apis/core/helper/qos. Pure.
 */

import { parseQuantity } from '../lib/quantity';

function defaultImagePullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.split('/').pop() ?? image;
  const tag = last.includes(':') ? last.split(':').pop() : undefined;
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

export function defaultPodSpec(spec: any): void {
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  // v1 conversion keeps the deprecated serviceAccount and serviceAccountName in step.
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName && !spec.serviceAccount) spec.serviceAccount = spec.serviceAccountName;
  else if (typeof spec.serviceAccount === 'string' && spec.serviceAccount && !spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount;
  for (const list of [spec.containers, spec.initContainers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (!c || typeof c !== 'object') continue;
      if (typeof c.image === 'string' && c.image) c.imagePullPolicy ??= defaultImagePullPolicy(c.image);
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.resources ??= {};
      // requests default to limits (Kubernetes: SetDefaults_ResourceList for containers)
      const r = c.resources;
      if (r && typeof r === 'object' && r.limits && typeof r.limits === 'object') {
        for (const [k, v] of Object.entries(r.limits)) {
          if (r.requests?.[k] === undefined) r.requests = { ...(r.requests ?? {}), [k]: v };
        }
      }
      for (const p of c.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
    }
  }
}

/** The pod's QoS class (Kubernetes' GetPodQOS): Guaranteed, Burstable or BestEffort. */
export function podQOSClass(spec: any): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].filter((c) => c && typeof c === 'object');
  const supported = ['cpu', 'memory'];
  let anyRequest = false;
  let anyLimit = false;
  let guaranteed = true;
  for (const c of containers) {
    const req: Record<string, unknown> = c.resources?.requests ?? {};
    const lim: Record<string, unknown> = c.resources?.limits ?? {};
    for (const r of supported) {
      const rq = parseQuantity(req[r]) ?? NaN;
      const lm = parseQuantity(lim[r]) ?? NaN;
      if (rq > 0) anyRequest = true;
      if (lm > 0) anyLimit = true;
      if (!(lm > 0)) guaranteed = false;
      else if (req[r] !== undefined && rq !== lm) guaranteed = false;
    }
  }
  if (!anyRequest && !anyLimit) return 'BestEffort';
  return guaranteed && containers.length > 0 ? 'Guaranteed' : 'Burstable';
}
