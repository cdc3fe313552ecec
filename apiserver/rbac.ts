import type { UserInfo } from './auth';
import { errors, qualified, type ApiError } from './errors';
import { matchesLabels, type LabelSelector } from './selectors';

/**
 * RBAC as Kubernetes evaluates it (pkg/registry/rbac/validation, plugin/pkg/auth/authorizer/rbac),
 * as a pure index over Role/ClusterRole/RoleBinding/ClusterRoleBinding objects. The apiserver
 * rebuilds the index from its watch cache when those change (rbac-live.ts); nothing here does IO.
 *
 * - ClusterRoleBindings grant everywhere; RoleBindings grant in their namespace (a RoleBinding
 *   may reference a ClusterRole: its rules then apply in that namespace only).
 * - Subjects: User (by name), Group (by group), ServiceAccount (system:serviceaccount:<ns>:<name>,
 *   namespace defaulting to the binding's).
 * - ClusterRoles with an aggregationRule get the rules of every ClusterRole matching one of its
 *   selectors (what Kubernetes' aggregation controller writes into the object).
 * - Members of system:masters may do everything.
 */

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** What is being asked: a resource request (verb on group/resource[/subresource][/name] in a namespace) or a path. */
export interface Attributes {
  verb: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  namespace?: string;
  /** non-resource requests */
  path?: string;
  nonResource?: boolean;
}

export interface Decision { allowed: boolean; reason?: string; denied?: boolean }

interface RbacMeta { name?: string; namespace?: string; labels?: Record<string, string> }
interface RoleRef { kind?: string; name?: string }

/** A Role or ClusterRole as stored; malformed fields are skipped where they are read. */
export interface RoleObject { metadata?: RbacMeta; rules?: unknown; aggregationRule?: { clusterRoleSelectors?: unknown } }
/** A RoleBinding or ClusterRoleBinding as stored. */
export interface BindingObject { metadata?: RbacMeta; subjects?: Subject[]; roleRef?: RoleRef }

export interface RbacObjects {
  roles: RoleObject[];
  clusterRoles: RoleObject[];
  roleBindings: BindingObject[];
  clusterRoleBindings: BindingObject[];
}

const has = (list: string[] | undefined, v: string) => Array.isArray(list) && (list.includes('*') || list.includes(v));

export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (a.nonResource) {
    const path = a.path ?? '';
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
  }
  if (!has(rule.apiGroups, a.group ?? '')) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource ?? '';
  const resOk = (rule.resources ?? []).some((r) => r === '*' || r === combined || (!!a.subresource && r === `*/${a.subresource}`));
  if (!resOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (!!a.name && names.includes(a.name));
}

interface Subject { kind?: string; name?: string; namespace?: string }

function appliesTo(user: UserInfo, s: Subject, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User': return s.name === user.name;
    case 'Group': return !!s.name && user.groups.includes(s.name);
    case 'ServiceAccount': return user.name === `system:serviceaccount:${s.namespace || bindingNamespace}:${s.name}`;
    default: return false;
  }
}

interface SelectorLike { matchLabels?: Record<string, unknown>; matchExpressions?: unknown }
interface RequirementLike { key?: unknown; operator?: unknown; values?: unknown }

function selectorOf(raw: unknown): LabelSelector {
  const sel = raw as SelectorLike | null | undefined;
  const out: LabelSelector = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) out.push({ key: k, op: '=', value: String(v) });
  const exprs: (RequirementLike | null | undefined)[] = Array.isArray(sel?.matchExpressions) ? sel.matchExpressions : [];
  for (const e of exprs) {
    const key = String(e?.key ?? '');
    if (e?.operator === 'In' || e?.operator === 'NotIn') out.push({ key, op: e.operator === 'In' ? 'in' : 'notin', values: Array.isArray(e.values) ? e.values.map(String) : [] });
    else if (e?.operator === 'Exists') out.push({ key, op: 'exists' });
    else if (e?.operator === 'DoesNotExist') out.push({ key, op: '!' });
  }
  return out;
}

export class RbacIndex {
  private readonly clusterRoles = new Map<string, PolicyRule[]>();
  private readonly roles = new Map<string, PolicyRule[]>(); // ns/name
  private readonly roleBindings = new Map<string, BindingObject[]>(); // by ns
  private readonly clusterRoleBindings: BindingObject[];

  constructor(o: RbacObjects) {
    const rulesOf = (r: RoleObject | undefined): PolicyRule[] => (Array.isArray(r?.rules) ? r.rules.filter((x: unknown) => x && typeof x === 'object') : []);
    const byName = new Map<string, RoleObject>();
    for (const r of o.clusterRoles) if (r?.metadata?.name) byName.set(r.metadata.name, r);
    // aggregation: own rules plus those of every ClusterRole a selector picks, transitively
    const effective = (name: string, seen: Set<string>): PolicyRule[] => {
      const done = this.clusterRoles.get(name);
      if (done) return done;
      const r = byName.get(name);
      const rules = [...rulesOf(r)];
      const selectors: unknown[] = Array.isArray(r?.aggregationRule?.clusterRoleSelectors) ? r.aggregationRule.clusterRoleSelectors : [];
      if (selectors.length && !seen.has(name)) {
        seen.add(name);
        const sels = selectors.map(selectorOf).filter((ls) => ls.length > 0);
        for (const [otherName, other] of byName) {
          if (otherName === name || seen.has(otherName)) continue;
          if (sels.some((ls) => matchesLabels(ls, other?.metadata?.labels ?? {}))) rules.push(...effective(otherName, seen));
        }
        seen.delete(name);
      }
      if (!seen.size) this.clusterRoles.set(name, rules);
      return rules;
    };
    for (const name of byName.keys()) effective(name, new Set());
    for (const r of o.roles) if (r?.metadata?.name) this.roles.set(`${r.metadata.namespace}/${r.metadata.name}`, rulesOf(r));
    for (const b of o.roleBindings) {
      const ns = b?.metadata?.namespace;
      if (!ns) continue;
      if (!this.roleBindings.has(ns)) this.roleBindings.set(ns, []);
      this.roleBindings.get(ns)!.push(b);
    }
    this.clusterRoleBindings = o.clusterRoleBindings.filter((b) => b?.metadata?.name);
  }

  private roleRules(ref: RoleRef | undefined, ns: string): PolicyRule[] {
    if (ref?.kind === 'ClusterRole') return this.clusterRoles.get(ref.name ?? '') ?? [];
    if (ref?.kind === 'Role') return this.roles.get(`${ns}/${ref.name}`) ?? [];
    return [];
  }

  /** Visits (binding description, rules) that apply to `user` in `namespace` until `visit` returns true. */
  private visit(user: UserInfo, namespace: string | undefined, visit: (source: string, rules: PolicyRule[]) => boolean): boolean {
    for (const b of this.clusterRoleBindings) {
      const subj = (b.subjects ?? []).find((s: Subject) => appliesTo(user, s, ''));
      if (!subj) continue;
      if (visit(`ClusterRoleBinding "${b.metadata?.name}" of ClusterRole "${b.roleRef?.name}" to ${subj.kind} "${subj.name}"`, this.roleRef(b.roleRef, ''))) return true;
    }
    if (namespace) {
      for (const b of this.roleBindings.get(namespace) ?? []) {
        const subj = (b.subjects ?? []).find((s: Subject) => appliesTo(user, s, namespace));
        if (!subj) continue;
        if (visit(`RoleBinding "${b.metadata?.name}/${namespace}" of ${b.roleRef?.kind} "${b.roleRef?.name}" to ${subj.kind} "${subj.name}"`, this.roleRules(b.roleRef, namespace))) return true;
      }
    }
    return false;
  }

  private roleRef(ref: RoleRef | undefined, ns: string): PolicyRule[] {
    return ref?.kind === 'ClusterRole' ? this.clusterRoles.get(ref.name ?? '') ?? [] : this.roleRules(ref, ns);
  }

  authorize(user: UserInfo | undefined, a: Attributes): Decision {
    if (!user) return { allowed: false, reason: 'no user' };
    if (user.groups.includes('system:masters')) return { allowed: true, reason: 'system:masters' };
    let reason = '';
    const ok = this.visit(user, a.nonResource ? undefined : a.namespace, (source, rules) => {
      if (rules.some((r) => ruleAllows(r, a))) { reason = `RBAC: allowed by ${source}`; return true; }
      return false;
    });
    return ok ? { allowed: true, reason } : { allowed: false, reason: '' };
  }

  /** Every rule that applies to `user` in `namespace` (SelfSubjectRulesReview). */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[] {
    const out: PolicyRule[] = [];
    if (user.groups.includes('system:masters')) out.push({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] });
    this.visit(user, namespace, (_s, rules) => { out.push(...rules); return false; });
    return out;
  }
}

/** Kubernetes' "forbidden" message for a denied request (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters). */
function forbiddenMessage(user: string, a: Attributes): string {
  if (a.nonResource) return `User ${JSON.stringify(user)} cannot ${a.verb} path ${JSON.stringify(a.path ?? '')}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource ?? '';
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${JSON.stringify(user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.group ?? '')} ${where}`;
}

/** The 403 Status for a denied request, worded as Kubernetes' apierrors.NewForbidden. */
export function forbidden(user: string, a: Attributes, reason?: string): ApiError {
  const msg = forbiddenMessage(user, a) + (reason ? `: ${reason}` : '');
  if (a.nonResource || !a.resource) return errors.forbidden(`forbidden: ${msg}`, {});
  const q = qualified(a.resource, a.group ?? '');
  const details = { ...(a.name ? { name: a.name } : {}), group: a.group ?? '', kind: a.resource };
  return errors.forbidden(a.name ? `${q} ${JSON.stringify(a.name)} is forbidden: ${msg}` : `${q} is forbidden: ${msg}`, details);
}
