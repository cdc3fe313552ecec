import { groupRejections, type LastAttempt } from '../lib/scheduling-diagnosis';
import type { ScheduleResult } from './schedule';

type Failure = Extract<ScheduleResult, { ok: false }>;

/** What the PostFilter (preemption) hook reports after a failed attempt. */
export interface PostFilterResult {
  /** The part after "preemption: " in the FailedScheduling message. */
  message: string;
  nominatedNode?: string;
}

/** The FailedScheduling message: the filter summary, then kube-scheduler's "preemption: …" part when preemption ran. */
export function failedSchedulingMessage(result: Failure, post?: PostFilterResult): string {
  return post ? `${result.message} preemption: ${post.message}` : result.message;
}

/** The `scheduler.coxswain.io/last-attempt` record of a failed attempt over `nodes` nodes at `time`. */
export function lastAttemptOf(result: Failure, nodes: number, time: string, post?: PostFilterResult): LastAttempt {
  return {
    time,
    nodes,
    message: failedSchedulingMessage(result, post),
    ...(result.preFilter ? { preFilter: { plugin: result.preFilter.plugin ?? '', reasons: result.preFilter.reasons } } : {}),
    rejected: groupRejections(result.diagnosis),
    ...(post ? { preemption: post.message } : {}),
    ...(post?.nominatedNode ? { nominatedNode: post.nominatedNode } : {}),
  };
}

/** Whether two records say the same apart from their time (then the annotation is not rewritten). */
export function sameAttempt(a: LastAttempt | undefined, b: LastAttempt): boolean {
  if (!a) return false;
  return JSON.stringify({ ...a, time: '' }) === JSON.stringify({ ...b, time: '' });
}

/** The plugins that rejected the pod (a PreFilter's, or every node's first failing filter). */
export function rejectingPlugins(result: Failure): Set<string> {
  const out = new Set<string>();
  if (result.preFilter?.plugin) out.add(result.preFilter.plugin);
  for (const s of result.diagnosis.values()) if (s.plugin) out.add(s.plugin);
  return out;
}
