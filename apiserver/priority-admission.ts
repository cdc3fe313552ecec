import type { Pod } from 'kubernetes-types/core/v1';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1';
import type { AdmissionPlugin } from './admission';
import type { ResourceDef } from './groups/types';
import { errors } from './errors';
import type { ResourceStorage } from './resources';
import type { Registry } from './registry';

/**
 * Kubernetes' Priority admission plugin. On pod create, `spec.priorityClassName` is resolved
 * into `spec.priority` and `spec.preemptionPolicy` (no name: the globalDefault class, else 0
 * and PreemptLowerPriority); an unknown class, or a priority / policy the pod set itself that
 * disagrees with the class, is Forbidden. On pod update the admitted values are kept when the
 * new body leaves them out. On PriorityClass create and update: at most one globalDefault.
 */

/** The outcome for a pod: what to set, or why it is refused (the message after `pods "x" is forbidden: `). */
export type PriorityDecision =
  | { ok: true; priorityClassName?: string; priority: number; preemptionPolicy: string }
  | { ok: false; message: string };

/** The class pods without a priorityClassName get: the globalDefault one (lowest value if several), or none. */
export function defaultPriorityClass(classes: PriorityClass[]): PriorityClass | undefined {
  let best: PriorityClass | undefined;
  for (const pc of classes) if (pc.globalDefault && (!best || pc.value < best.value)) best = pc;
  return best;
}

/** Priority admission of a new pod against the cluster's classes. Pure. */
export function admitPodPriority(pod: Pod, classes: PriorityClass[]): PriorityDecision {
  const spec = pod.spec;
  const name = spec?.priorityClassName;
  let priority = 0;
  let policy = 'PreemptLowerPriority';
  let className: string | undefined;
  if (!name) {
    const d = defaultPriorityClass(classes);
    if (d) {
      className = d.metadata?.name;
      priority = d.value;
      policy = d.preemptionPolicy ?? policy;
    }
  } else {
    const pc = classes.find((c) => c.metadata?.name === name);
    if (!pc) return { ok: false, message: `no PriorityClass with name ${name} was found` };
    className = name;
    priority = pc.value;
    policy = pc.preemptionPolicy ?? policy;
  }
  if (spec?.priority !== undefined && spec.priority !== null && spec.priority !== priority) {
    return { ok: false, message: `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name` };
  }
  if (spec?.preemptionPolicy !== undefined && spec.preemptionPolicy !== null && spec.preemptionPolicy !== policy) {
    return { ok: false, message: `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name` };
  }
  return { ok: true, priorityClassName: className, priority, preemptionPolicy: policy };
}

/** Why `pc` may not become (or stay) a globalDefault class, given the other classes; undefined when it may. */
export function globalDefaultConflict(pc: PriorityClass, classes: PriorityClass[]): string | undefined {
  if (!pc.globalDefault) return undefined;
  const other = classes.find((c) => c.globalDefault && c.metadata?.name !== pc.metadata?.name);
  return other ? `PriorityClass ${other.metadata?.name} is already marked as default. Only one default can exist` : undefined;
}

/** The admission plugin, reading classes from the apiserver's watch cache. */
export function priorityAdmission(storage: ResourceStorage, registry: Registry): AdmissionPlugin {
  const podDef = registry.lookup('', 'v1', 'pods');
  const pcDef = registry.lookup('scheduling.k8s.io', 'v1', 'priorityclasses');
  const classes = async (): Promise<PriorityClass[]> => (pcDef ? (await storage.list(pcDef, undefined)).items.map((c) => c.obj as PriorityClass) : []);
  const checkDefault = async (def: ResourceDef, obj: unknown) => {
    const pc = obj as PriorityClass;
    if (!pc.globalDefault) return;
    const why = globalDefaultConflict(pc, await classes());
    const name = pc.metadata?.name ?? '';
    if (why) throw errors.forbidden(`priorityclasses.scheduling.k8s.io "${name}" is forbidden: ${why}`, { name, group: def.group, kind: def.plural });
  };
  return {
    async admit(def, _ns, obj) {
      if (def === pcDef) return checkDefault(def, obj);
      if (def !== podDef) return;
      const pod = obj as Pod;
      if (!pod.spec) return;
      const d = admitPodPriority(pod, await classes());
      const name = pod.metadata?.name ?? pod.metadata?.generateName ?? '';
      if (!d.ok) throw errors.forbidden(`pods "${name}" is forbidden: ${d.message}`, { name, kind: 'pods' });
      if (d.priorityClassName) pod.spec.priorityClassName = d.priorityClassName;
      pod.spec.priority = d.priority;
      pod.spec.preemptionPolicy = d.preemptionPolicy;
    },
    admitUpdate(def, _ns, next, old) {
      if (def !== podDef) return;
      const spec = (next as Pod).spec;
      const prev = (old as Pod | undefined)?.spec;
      if (!spec || !prev) return;
      if ((spec.priority === undefined || spec.priority === null) && prev.priority !== undefined) spec.priority = prev.priority;
      if ((spec.preemptionPolicy === undefined || spec.preemptionPolicy === null) && prev.preemptionPolicy !== undefined) spec.preemptionPolicy = prev.preemptionPolicy;
    },
    async validateUpdate(def, _ns, next) {
      if (def === pcDef) await checkDefault(def, next);
    },
  };
}
