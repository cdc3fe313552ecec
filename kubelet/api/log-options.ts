/**
 * Container log options as both sides of the kubelet API read them: the apiserver turns
 * a PodLogOptions query into a `LogsRequest` (kubelet.proto), the kubelet hands them to
 * its container runtime.
 */

export interface LogOptions {
  follow?: boolean;
  /** Lines from the end; undefined = all. */
  tailLines?: number;
  /** Unix seconds (fractional allowed) of the oldest line; 0/undefined = all. */
  sinceUnix?: number;
  timestamps?: boolean;
}

/** Kubernetes' sinceSeconds / sinceTime → Unix seconds (0 = no bound). */
export function sinceUnix(now: number, sinceSeconds?: number, sinceTime?: string): number {
  if (sinceSeconds !== undefined && sinceSeconds > 0) return now / 1000 - sinceSeconds;
  if (sinceTime) {
    const t = Date.parse(sinceTime);
    if (Number.isFinite(t)) return t / 1000;
  }
  return 0;
}
