import { parseQuantity } from '../../../../lib/quantity';
import { podBinding } from './binding';
import { POD_PRINTER } from './printer';
import { validatePod } from './validation';
import { withStatus } from '../../shared/defs';
import { defaultPodSpec } from '../../shared/pod-template';
import type { ResourceDef } from '../../types';
import type { Container, Pod, PodSpec } from 'kubernetes-types/core/v1';
import type { Writable } from '../../../api-object';

/**
 * Pod (core/v1): defaults and QoS class on create, validation (validation.ts), printer
 * columns (printer.ts), graceful deletion, the binding subresource (binding.ts) and the
 * eviction subresource's rules (eviction.ts; served by handlers/eviction.ts).
 */

/** What the QoS class reads of a container. */
type QoSContainer = Partial<Container>;

/** The pod's QoS class (Kubernetes' GetPodQOS): Guaranteed, Burstable or BestEffort. */
export function podQOSClass(spec: { containers?: QoSContainer[]; initContainers?: QoSContainer[] } | undefined): 'Guaranteed' | 'Burstable' | 'BestEffort' {
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

/**
 * The grace period of a pod's DELETE (Kubernetes' CheckGracefulDelete): none for a pod on no
 * node or one that finished; else the client's, or spec.terminationGracePeriodSeconds (30).
 */
export function podGracePeriod(pod: Pod, requested: number | undefined): number {
  if (!pod.spec?.nodeName) return 0;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
  const g = requested ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, g);
}

export const POD: ResourceDef = {
  ...withStatus, group: '', kind: 'Pod', listKind: 'PodList', plural: 'pods', singular: 'pod', shortNames: ['po'], categories: ['all'],
  namespaced: true, subresources: ['status', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward'], gracefulDelete: true,
  fieldLabels: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  // a missing spec becomes {} (validation then reports spec.containers)
  defaults(o: Pod) { o.spec ??= {} as PodSpec; defaultPodSpec(o.spec); },
  prepareForCreate(o: Writable<Pod>) { o.status = { phase: 'Pending', qosClass: podQOSClass(o.spec) }; },
  validate: (o, _c, old) => validatePod(o, old),
  strategy: { binding: podBinding, gracePeriod: podGracePeriod },
  printer: POD_PRINTER,
};
