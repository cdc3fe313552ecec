import type { Pod, PodAffinityTerm } from 'kubernetes-types/core/v1';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import { matchesSelector } from '../../lib/label-selector';

/**
 * One pod (anti-)affinity term, ready to match pods against: the label selector with the owning
 * pod's `matchLabelKeys` / `mismatchLabelKeys` folded in (as the apiserver does when the pod is
 * created upstream), the namespaces it names (the owning pod's own namespace when it names
 * neither namespaces nor a namespaceSelector), and the weight (1 for required terms).
 */
export interface AffinityTerm {
  selector: LabelSelector | undefined;
  /** `selector`, compiled. */
  matchesLabels: LabelMatcher;
  namespaces: Set<string>;
  /** undefined: no selector (matches no namespace); `{}` matches every namespace. */
  namespaceSelector: LabelSelector | undefined;
  topologyKey: string;
  weight: number;
}

/** A pod's terms by kind. */
export interface PodAffinityInfo {
  requiredAffinity: AffinityTerm[];
  requiredAntiAffinity: AffinityTerm[];
  preferredAffinity: AffinityTerm[];
  preferredAntiAffinity: AffinityTerm[];
}

/** Labels of a namespace (undefined when unknown). */
export type NamespaceLabels = (namespace: string) => Record<string, string> | undefined;

const cache = new WeakMap<Pod, PodAffinityInfo>();

/** The parsed terms of `pod`, computed once per pod object (informer objects are replaced, never mutated, on update). */
export function affinityOf(pod: Pod): PodAffinityInfo {
  let info = cache.get(pod);
  if (!info) cache.set(pod, (info = parse(pod)));
  return info;
}

function parse(pod: Pod): PodAffinityInfo {
  const a = pod.spec?.affinity;
  const req = (terms: PodAffinityTerm[] | undefined) => (terms ?? []).map((t) => newTerm(pod, t, 1));
  const pref = (terms: { weight: number; podAffinityTerm: PodAffinityTerm }[] | undefined) => (terms ?? []).map((t) => newTerm(pod, t.podAffinityTerm, t.weight));
  return {
    requiredAffinity: req(a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    requiredAntiAffinity: req(a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    preferredAffinity: pref(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAntiAffinity: pref(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
  };
}

function newTerm(pod: Pod, t: PodAffinityTerm, weight: number): AffinityTerm {
  const ns = t.namespaces ?? [];
  const selector = withLabelKeys(t.labelSelector, pod.metadata?.labels ?? {}, t.matchLabelKeys ?? [], t.mismatchLabelKeys ?? []);
  return {
    selector,
    matchesLabels: compileSelector(selector),
    namespaces: new Set(ns.length === 0 && !t.namespaceSelector ? [pod.metadata?.namespace ?? 'default'] : ns),
    namespaceSelector: t.namespaceSelector,
    topologyKey: t.topologyKey,
    weight,
  };
}

/**
 * `sel` plus `key In (pod's value)` for each matchLabelKeys key and `key NotIn (pod's value)` for
 * each mismatchLabelKeys key the pod has. A missing selector stays missing (it matches nothing).
 */
export function withLabelKeys(sel: LabelSelector | undefined, labels: Record<string, string>, match: string[], mismatch: string[]): LabelSelector | undefined {
  if (!sel) return sel;
  const extra = [
    ...match.filter((k) => k in labels).map((k) => ({ key: k, operator: 'In', values: [labels[k]] })),
    ...mismatch.filter((k) => k in labels).map((k) => ({ key: k, operator: 'NotIn', values: [labels[k]] })),
  ];
  return extra.length ? { ...sel, matchExpressions: [...(sel.matchExpressions ?? []), ...extra] } : sel;
}

/**
 * Whether `term` selects `pod`: the pod's namespace is one the term names or its labels satisfy
 * the term's namespaceSelector, and the pod's labels satisfy the label selector.
 */
export function termMatches(term: AffinityTerm, pod: Pod, nsLabels: NamespaceLabels): boolean {
  const ns = pod.metadata?.namespace ?? 'default';
  if (!term.namespaces.has(ns) && !(term.namespaceSelector && matchesSelector(term.namespaceSelector, nsLabels(ns)))) return false;
  return term.matchesLabels(pod.metadata?.labels);
}

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

/**
 * `matchesSelector` (lib/label-selector.ts) for one selector, compiled once: the scheduler tests
 * each term against thousands of pods per attempt.
 */
export function compileSelector(sel: LabelSelector | undefined): LabelMatcher {
  if (!sel) return () => false;
  const eq = Object.entries(sel.matchLabels ?? {});
  const exprs = (sel.matchExpressions ?? []).map((e) => ({ key: e.key, op: e.operator, values: new Set(e.values ?? []) }));
  if (exprs.some((e) => !['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.op))) return () => false;
  return (labels) => {
    const l = labels ?? {};
    for (let i = 0; i < eq.length; i++) if (l[eq[i][0]] !== eq[i][1]) return false;
    for (let i = 0; i < exprs.length; i++) {
      const e = exprs[i];
      const v = Object.prototype.hasOwnProperty.call(l, e.key) ? l[e.key] : undefined;
      if (e.op === 'In' ? v === undefined || !e.values.has(v) : e.op === 'NotIn' ? v !== undefined && e.values.has(v) : e.op === 'Exists' ? v === undefined : v !== undefined) return false;
    }
    return true;
  };
}

/** Whether `pod` matches every term (false for no terms). */
export function matchesAllTerms(terms: AffinityTerm[], pod: Pod, nsLabels: NamespaceLabels): boolean {
  return terms.length > 0 && terms.every((t) => termMatches(t, pod, nsLabels));
}

/** Memoizes a namespace-labels lookup for one scheduling attempt. */
export function memoNamespaceLabels(lookup: NamespaceLabels): NamespaceLabels {
  const m = new Map<string, Record<string, string> | undefined>();
  return (ns) => {
    if (!m.has(ns)) m.set(ns, lookup(ns));
    return m.get(ns);
  };
}

/** Counts per (topology key, value) pair. */
export class TopologyCounts {
  private readonly m = new Map<string, number>();
  /** Adds `n` (may be negative); a pair down to 0 is dropped, so `size` counts pairs holding pods. */
  add(key: string, value: string, n: number): void {
    const k = `${key}\u0000${value}`;
    const v = (this.m.get(k) ?? 0) + n;
    if (v === 0) this.m.delete(k);
    else this.m.set(k, v);
  }
  clone(): TopologyCounts {
    const c = new TopologyCounts();
    for (const [k, v] of this.m) c.m.set(k, v);
    return c;
  }
  get(key: string, value: string): number {
    return this.m.get(`${key}\u0000${value}`) ?? 0;
  }
  get size(): number {
    return this.m.size;
  }
}
