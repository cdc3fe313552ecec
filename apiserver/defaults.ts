/**
 * Defaulting shared by several kinds (pod templates) and computed pod fields (QoS class),
 * following Kubernetes' pkg/apis/core/v1/defaults.go and pkg/apis/core/helper/qos. Pure.
 */

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

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** resource.Quantity → number (NaN when malformed). Precise enough to compare and sum. */
export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return NaN;
  const m = q.trim().match(/^([+-]?[0-9.]+)(?:[eE]([+-]?\d+))?([a-zA-Z]*)$/);
  if (!m || !(m[3] in SUFFIX)) return NaN;
  return Number(m[1]) * (m[2] ? 10 ** Number(m[2]) : 1) * SUFFIX[m[3]];
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
      const rq = parseQuantity(req[r]);
      const lm = parseQuantity(lim[r]);
      if (rq > 0) anyRequest = true;
      if (lm > 0) anyLimit = true;
      if (!(lm > 0)) guaranteed = false;
      else if (req[r] !== undefined && rq !== lm) guaranteed = false;
    }
  }
  if (!anyRequest && !anyLimit) return 'BestEffort';
  return guaranteed && containers.length > 0 ? 'Guaranteed' : 'Burstable';
}
