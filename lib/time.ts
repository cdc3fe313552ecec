/**
 * Kubernetes' wire timestamps. `metav1.Time` is RFC 3339 in whole seconds
 * ("2026-12-06T20:58:03Z"); `metav1.MicroTime` (Leases, Events' eventTime)
 * carries microseconds ("2026-12-06T20:58:03.123000Z").
 */
export function rfc3339(t: string | number | Date): string {
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function rfc3339Micro(t: string | number | Date): string {
  return new Date(t).toISOString().replace(/Z$/, '000Z');
}
