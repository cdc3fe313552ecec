import type { Pod } from 'kubernetes-types/core/v1';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import { CliError } from './errors';

/**
 * How kubectl picks one pod for a workload (`logs deploy/x`, `exec job/x`, `port-forward svc/x`)
 * and one container of a pod. Pure: the callers list the pods and print the notes.
 */

const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

function isReady(p: Pod): boolean {
  return (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function readyTime(p: Pod): number {
  const c = (p.status?.conditions ?? []).find((x) => x.type === 'Ready' && x.status === 'True');
  return c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0;
}

function created(p: Pod): number {
  return p.metadata?.creationTimestamp ? Date.parse(p.metadata.creationTimestamp) : 0;
}

function maxRestarts(p: Pod): { regular: number; sidecar: number } {
  const regular = Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
  const sidecars = new Set((p.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  const sidecar = Math.max(0, ...(p.status?.initContainerStatuses ?? []).filter((c) => sidecars.has(c.name)).map((c) => c.restartCount ?? 0));
  return { regular, sidecar };
}

/** Negative when `a` has more restarts (kubectl ranks it lower), 0 when equal. */
function compareRestarts(a: Pod, b: Pod): number {
  const ra = maxRestarts(a);
  const rb = maxRestarts(b);
  if (ra.regular !== rb.regular) return ra.regular > rb.regular ? -1 : 1;
  if (ra.sidecar !== rb.sidecar) return ra.sidecar > rb.sidecar ? -1 : 1;
  return 0;
}

/** t1 after t2, a zero time counting as after any other (kubectl's afterOrZero). */
function afterOrZero(t1: number, t2: number): boolean {
  if (t1 === 0 || t2 === 0) return t1 === 0;
  return t1 > t2;
}

const LOG_PHASE: Record<string, number> = { Running: 0, Unknown: 1, Pending: 2 };

/**
 * kubectl's order for logs (podutils.ByLogging), best first: assigned, Running before Unknown
 * before Pending, ready, ready for longer, fewer restarts, older.
 */
export function byLogging(a: Pod, b: Pod): number {
  const na = a.spec?.nodeName ?? '';
  const nb = b.spec?.nodeName ?? '';
  if (na !== nb && (!na || !nb)) return na ? -1 : 1;
  const pa = LOG_PHASE[a.status?.phase ?? ''] ?? 0;
  const pb = LOG_PHASE[b.status?.phase ?? ''] ?? 0;
  if (pa !== pb) return pa - pb;
  if (isReady(a) !== isReady(b)) return isReady(a) ? -1 : 1;
  if (isReady(a) && isReady(b) && readyTime(a) !== readyTime(b)) return afterOrZero(readyTime(b), readyTime(a)) ? -1 : 1;
  const r = compareRestarts(a, b);
  if (r !== 0) return r;
  if (created(a) !== created(b)) return afterOrZero(created(b), created(a)) ? -1 : 1;
  return 0;
}

const ACTIVE_PHASE: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * kubectl's order for exec, attach and port-forward: podutils.ActivePods reversed, best first:
 * assigned, Running, ready, not deleting (then the later deletion), ready for longer, fewer
 * restarts, older.
 */
export function byActive(a: Pod, b: Pod): number {
  // ActivePods.Less(i, j) says i is "less" (worse); reversed, the better one comes first.
  const less = (x: Pod, y: Pod): boolean => {
    const nx = x.spec?.nodeName ?? '';
    const ny = y.spec?.nodeName ?? '';
    if (nx !== ny && (!nx || !ny)) return !nx;
    const px = ACTIVE_PHASE[x.status?.phase ?? ''] ?? 0;
    const py = ACTIVE_PHASE[y.status?.phase ?? ''] ?? 0;
    if (px !== py) return px < py;
    if (isReady(x) !== isReady(y)) return !isReady(x);
    const dx = x.metadata?.deletionTimestamp;
    const dy = y.metadata?.deletionTimestamp;
    if (!!dx !== !!dy) return !!dx;
    if (dx && dy && dx !== dy) return Date.parse(dx) < Date.parse(dy);
    if (isReady(x) && isReady(y) && readyTime(x) !== readyTime(y)) return afterOrZero(readyTime(x), readyTime(y));
    const r = compareRestarts(x, y);
    if (r !== 0) return r < 0;
    if (created(x) !== created(y)) return afterOrZero(created(x), created(y));
    return false;
  };
  if (less(a, b)) return 1;
  if (less(b, a)) return -1;
  return 0;
}

/** A label selector as the `labelSelector` query parameter, requirements sorted by key as kubectl prints them. */
export function selectorString(sel: LabelSelector): string {
  const parts: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push({ key: k, text: `${k}=${v}` });
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    const text =
      e.operator === 'In' ? `${e.key} in (${values})` : e.operator === 'NotIn' ? `${e.key} notin (${values})` : e.operator === 'Exists' ? e.key : e.operator === 'DoesNotExist' ? `!${e.key}` : '';
    if (!text) throw new CliError(`invalid label selector: "${e.operator}" is not a valid label selector operator`);
    parts.push({ key: e.key, text });
  }
  return parts
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((p) => p.text)
    .join(',');
}

interface WithSelector {
  kind?: string;
  metadata?: { name?: string };
  spec?: { selector?: LabelSelector | Record<string, string> };
}

/**
 * The pod selector of a workload or Service (kubectl's SelectorsForObject), as a query string.
 * Services and ReplicationControllers carry a plain map; the others a LabelSelector.
 */
export function podSelectorOf(obj: WithSelector): string {
  const kind = obj.kind ?? '';
  const sel = obj.spec?.selector;
  if (kind === 'Service' || kind === 'ReplicationController') {
    const map = (sel ?? {}) as Record<string, string>;
    if (Object.keys(map).length === 0) throw new CliError(`cannot attach to *v1.${kind}: invalid service '${obj.metadata?.name ?? ''}': Service is defined without a selector`);
    return selectorString({ matchLabels: map });
  }
  if (!['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job'].includes(kind)) {
    throw new CliError(`cannot attach to *v1.${kind}: selector for *v1.${kind} not implemented`);
  }
  return selectorString((sel ?? {}) as LabelSelector);
}

export function allContainerNames(pod: Pod): string {
  return [
    ...(pod.spec?.containers ?? []).map((c) => c.name),
    ...(pod.spec?.ephemeralContainers ?? []).map((c) => `${c.name} (ephem)`),
    ...(pod.spec?.initContainers ?? []).map((c) => `${c.name} (init)`),
  ].join(', ');
}

export function hasContainer(pod: Pod, name: string): boolean {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].some((c) => c.name === name);
}

/**
 * The container a command uses when none is named: the default-container annotation's if it
 * names one, else the first; `note` is kubectl's "Defaulted container" line when there was a
 * choice (a pod with one container gets none).
 */
export function defaultContainer(pod: Pod, opts: { annotation?: boolean } = {}): { name: string; note?: string } {
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 0) throw new CliError(`pod ${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''} does not have any containers`);
  const annotated = pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (opts.annotation !== false && annotated && hasContainer(pod, annotated)) return { name: annotated };
  const name = containers[0].name;
  const choice = containers.length > 1 || (pod.spec?.initContainers ?? []).length > 0 || (pod.spec?.ephemeralContainers ?? []).length > 0;
  return { name, note: choice ? `Defaulted container "${name}" out of: ${allContainerNames(pod)}\n` : undefined };
}

/** `pod/x`, `deploy/x` or a bare pod name → the type as typed (undefined: a pod) and the name. */
export function splitTypeName(arg: string): { type?: string; name: string } {
  const i = arg.indexOf('/');
  if (i < 0) return { name: arg };
  const type = arg.slice(0, i);
  const name = arg.slice(i + 1);
  if (!type || !name || name.includes('/')) throw new CliError(`arguments in resource/name form may not have more than one slash`);
  return { type, name };
}
