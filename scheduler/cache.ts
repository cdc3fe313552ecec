import type { Node, Pod } from 'kubernetes-types/core/v1';
import { nodeInfo, type NodeInfo } from './framework';

function key(p: Pod): string {
  return `${p.metadata?.namespace}/${p.metadata?.name}`;
}

/**
 * Pods the scheduler has bound (or is binding) that the pod informer may not
 * show as bound yet (kube-scheduler's "assume"). An assumption ends when the
 * informer shows the pod bound or gone (`confirm`), when binding fails
 * (`forget`), or after `ttlMs`.
 */
export class AssumeCache {
  private readonly assumed = new Map<string, { pod: Pod; uid?: string; at: number }>();

  constructor(private readonly ttlMs = 30_000) {}

  /** Assumes `pod` bound to `nodeName` from `nowMs` on; returns the bound copy it keeps. */
  assume(pod: Pod, nodeName: string, nowMs: number): Pod {
    const bound: Pod = { ...pod, spec: { ...(pod.spec ?? { containers: [] }), nodeName } };
    // Deleted first, so a pod assumed again moves to the end (the map stays in time order).
    this.assumed.delete(key(pod));
    this.assumed.set(key(pod), { pod: bound, uid: pod.metadata?.uid, at: nowMs });
    return bound;
  }

  /** Ends the pod's assumption; returns the bound copy it dropped, if any. */
  forget(pod: Pod): Pod | undefined {
    const a = this.assumed.get(key(pod));
    this.assumed.delete(key(pod));
    return a?.pod;
  }

  /** Called with the informer's view of a pod (or its deletion); returns the bound copy it dropped, if any. */
  confirm(pod: Pod, deleted = false): Pod | undefined {
    const a = this.assumed.get(key(pod));
    if (!a) return undefined;
    if (!(deleted || pod.spec?.nodeName || (a.uid && pod.metadata?.uid !== a.uid))) return undefined;
    this.assumed.delete(key(pod));
    return a.pod;
  }

  isAssumed(pod: Pod): boolean {
    return this.assumed.has(key(pod));
  }

  /** Live assumptions at `nowMs` (expired ones are dropped). */
  list(nowMs: number): Pod[] {
    this.expire(nowMs);
    return [...this.assumed.values()].map((a) => a.pod);
  }

  /**
   * Drops the assumptions older than the TTL at `nowMs`; returns their bound copies. The map is
   * in the order pods were assumed (times from one clock), so the walk stops at the first live
   * one: an attempt does not walk every pod in flight.
   */
  expire(nowMs: number): Pod[] {
    const out: Pod[] = [];
    for (const [k, a] of this.assumed) {
      if (nowMs - a.at <= this.ttlMs) break;
      this.assumed.delete(k);
      out.push(a.pod);
    }
    return out;
  }

  get size(): number {
    return this.assumed.size;
  }
}

/** NodeInfos for `nodes` from informer pods plus assumed pods (an assumption overrides the informer's unbound copy). */
export function buildNodeInfos(nodes: Node[], pods: Pod[], assumed: Pod[]): NodeInfo[] {
  const byNode = new Map<string, Pod[]>();
  const seen = new Set<string>();
  const add = (p: Pod) => {
    const n = p.spec?.nodeName;
    if (!n) return;
    let l = byNode.get(n);
    if (!l) byNode.set(n, (l = []));
    l.push(p);
  };
  for (const p of assumed) {
    seen.add(key(p));
    add(p);
  }
  for (const p of pods) if (!seen.has(key(p))) add(p);
  return nodes.map((n) => nodeInfo(n, byNode.get(n.metadata?.name ?? '') ?? []));
}
