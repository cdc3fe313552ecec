import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { ApiError, type ApiClient, type KubeObject } from '../lib/client';
import type { EventRecorder } from '../lib/events';
import type { Logger } from '../lib/log';
import { PODS } from '../lib/resources';
import { podPriority } from '../lib/priority';
import type { Snapshot } from './framework';
import type { Profile } from './plugins/registry';
import type { ScheduleResult } from './schedule';
import { findPreemption } from './preemption';

/**
 * DefaultPreemption's IO, as the scheduler's PostFilter hook: after a failed attempt, pick
 * victims (preemption.ts), mark each with the DisruptionTarget condition, delete it with its own
 * grace period and record a `Preempted` event on it; clear the nomination of lower-priority
 * pods nominated to the same node; set the preemptor's `status.nominatedNodeName`. The
 * scheduler then waits for the victims to go (a deleted pod retries unschedulable pods).
 */

export interface PreemptorOptions {
  client: ApiClient;
  recorder: EventRecorder;
  logger: Logger;
  profile: Profile;
  /** The PodDisruptionBudgets (an informer's list). */
  pdbs: () => PodDisruptionBudget[];
  /** Every pod the scheduler knows (for pods nominated to a node). */
  pods: () => Pod[];
}

/** What the hook returns: the text after the fit error ("preemption: …"; empty when preemption went ahead) and the nominated node. */
export interface PostFilterResult {
  message: string;
  nominatedNode?: string;
}

export type PostFilter = (pod: Pod, result: ScheduleResult, snapshot: Snapshot) => Promise<PostFilterResult | undefined>;

export function defaultPreemption(o: PreemptorOptions): PostFilter {
  let offset = 0;
  return async (pod, result, snapshot) => {
    if (result.ok) return undefined;
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const out = findPreemption({
      pod, snapshot, profile: o.profile, diagnosis: result.diagnosis, preFilter: result.preFilter, state: result.state,
      pdbs: o.pdbs(), nominated: o.pods(), offset: offset++,
    });
    if (!out.ok) {
      // no node can be freed: a nomination from an earlier attempt no longer holds
      if (pod.status?.nominatedNodeName && !out.message.startsWith('not eligible')) await setNominatedNode(o, pod, null);
      return { message: `preemption: ${out.message}` };
    }
    const { nodeName, victims, pdbViolations } = out.candidate;
    o.logger.info({ pod: key, node: nodeName, victims: victims.map((v) => `${v.metadata?.namespace}/${v.metadata?.name}`), pdbViolations }, 'preempting');
    for (const v of victims) await evict(o, pod, v, nodeName);
    await clearLowerNominations(o, pod, nodeName);
    await setNominatedNode(o, pod, nodeName);
    return { message: '', nominatedNode: nodeName };
  };
}

/** DisruptionTarget condition, then a DELETE with the victim's own grace period, then the event. */
async function evict(o: PreemptorOptions, preemptor: Pod, victim: Pod, nodeName: string): Promise<void> {
  const ns = victim.metadata?.namespace;
  const name = victim.metadata?.name ?? '';
  const condition = {
    type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', lastTransitionTime: new Date().toISOString(),
    message: `${preemptor.spec?.schedulerName ?? 'default-scheduler'}: preempting to accommodate a higher priority pod`,
  };
  try {
    await o.client.patch(PODS, name, { status: { conditions: [condition] } }, { namespace: ns, type: 'strategic', subresource: 'status' });
    await o.client.delete(PODS, name, { namespace: ns, preconditions: victim.metadata?.uid ? { uid: victim.metadata.uid } : undefined });
  } catch (err) {
    // gone already, or replaced by another pod of that name: nothing to evict
    if (err instanceof ApiError && (err.notFound || err.conflict)) return;
    throw err;
  }
  o.recorder.event({ ...victim, apiVersion: 'v1', kind: 'Pod' } as KubeObject, 'Normal', 'Preempted', `Preempted by pod ${preemptor.metadata?.uid ?? ''} on node ${nodeName}`);
}

/** Lower-priority pods nominated to `nodeName` lose the nomination (they may no longer fit there). */
async function clearLowerNominations(o: PreemptorOptions, preemptor: Pod, nodeName: string): Promise<void> {
  const prio = podPriority(preemptor);
  for (const p of o.pods()) {
    if (p.status?.nominatedNodeName !== nodeName || p.spec?.nodeName || podPriority(p) >= prio || p.metadata?.uid === preemptor.metadata?.uid) continue;
    await setNominatedNode(o, p, null);
  }
}

async function setNominatedNode(o: PreemptorOptions, pod: Pod, nodeName: string | null): Promise<void> {
  if ((pod.status?.nominatedNodeName ?? null) === nodeName) return;
  try {
    await o.client.patch(PODS, pod.metadata?.name ?? '', { status: { nominatedNodeName: nodeName } }, { namespace: pod.metadata?.namespace, type: 'merge', subresource: 'status' });
  } catch (err) {
    if (!(err instanceof ApiError && err.notFound)) throw err;
  }
}
