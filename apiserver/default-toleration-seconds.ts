import type { Pod, Toleration } from 'kubernetes-types/core/v1';
import type { AdmissionPlugin } from './admission';
import type { ResourceDef } from './groups/types';

const NOT_READY = 'node.kubernetes.io/not-ready';
const UNREACHABLE = 'node.kubernetes.io/unreachable';

/**
 * Coxswain's default: a pod stays 2 s on a node that became unreachable or
 * not ready before it is evicted (Kubernetes: 300 s). The node is declared
 * Unknown only after 8 s of silence (the controllers' --node-monitor-grace-period),
 * so the pod has been unreachable for 10 s by then; waiting longer only
 * delays its replacement. A workload that would rather wait for its node sets
 * its own toleration (tolerationSeconds, or none to wait forever).
 */
export const DEFAULT_TOLERATION_SECONDS = 2;

/**
 * Kubernetes' DefaultTolerationSeconds: a pod that does not tolerate the
 * `not-ready` or `unreachable` NoExecute taint gets a toleration of it for the
 * given seconds. A toleration that already matches the taint (also a wildcard
 * one) is left as it is. Mutates `pod`.
 */
export function addDefaultTolerations(pod: Pod, notReadySeconds: number, unreachableSeconds: number): void {
  const spec = pod.spec;
  if (!spec) return;
  const tols: Toleration[] = spec.tolerations ?? [];
  const covers = (key: string) => tols.some((t) => (t.effect === undefined || t.effect === '' || t.effect === 'NoExecute') && (t.operator === 'Exists' ? !t.key || t.key === key : t.key === key));
  const add: Toleration[] = [];
  if (!covers(NOT_READY)) add.push({ key: NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: notReadySeconds });
  if (!covers(UNREACHABLE)) add.push({ key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: unreachableSeconds });
  if (add.length) spec.tolerations = [...tols, ...add];
}

/**
 * The admission plugin over `addDefaultTolerations`, for pods on create and update (as
 * Kubernetes': a replace that leaves the added tolerations out gets them again, so it is not
 * refused for removing a toleration).
 */
export function defaultTolerationSecondsAdmission(podDef: ResourceDef | undefined, notReadySeconds: number, unreachableSeconds: number): AdmissionPlugin {
  return {
    async admit(def, _ns, obj) {
      if (def === podDef) addDefaultTolerations(obj as Pod, notReadySeconds, unreachableSeconds);
    },
    admitUpdate(def, _ns, next) {
      if (def === podDef) addDefaultTolerations(next as Pod, notReadySeconds, unreachableSeconds);
    },
  };
}
