import type { ControllerRevision, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Container, PodTemplateSpec, Toleration } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../../lib/client';

/**
 * The pure part of `rollout history` and `rollout undo`: which revisions a
 * workload has, how kubectl prints them, and what restoring one writes.
 */

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
const HASH_LABEL = 'pod-template-hash';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** One revision of a workload: its number, its pod template, its change cause, and the object it came from. */
export interface Revision {
  revision: number;
  template: PodTemplateSpec;
  changeCause?: string;
  source: KubeObject;
}

function controlledBy(o: KubeObject, uid: string | undefined): boolean {
  return !!uid && !!o.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid);
}

/** A Deployment's revisions: the ReplicaSets it controls, by their revision annotation (those without one are skipped). */
export function deploymentRevisions(deploymentUid: string | undefined, replicaSets: ReplicaSet[]): Map<number, Revision> {
  const out = new Map<number, Revision>();
  for (const rs of replicaSets) {
    if (!controlledBy(rs as KubeObject, deploymentUid)) continue;
    const v = Number(rs.metadata?.annotations?.[REVISION_ANNOTATION]);
    if (!Number.isInteger(v) || rs.metadata?.annotations?.[REVISION_ANNOTATION] === undefined) continue;
    const template = structuredClone(rs.spec?.template ?? {});
    const changeCause = rs.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION];
    if (changeCause) template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [CHANGE_CAUSE_ANNOTATION]: changeCause } };
    out.set(v, { revision: v, template, changeCause, source: rs as KubeObject });
  }
  return out;
}

/** A StatefulSet's or DaemonSet's revisions: the ControllerRevisions it controls; the template is the one stored in `data`. */
export function controllerRevisions(ownerUid: string | undefined, revisions: ControllerRevision[]): Map<number, Revision> {
  const out = new Map<number, Revision>();
  for (const cr of revisions) {
    if (!controlledBy(cr as KubeObject, ownerUid)) continue;
    const data = cr.data as { spec?: { template?: Record<string, unknown> } } | undefined;
    const { $patch: _p, ...template } = data?.spec?.template ?? {};
    out.set(cr.revision, { revision: cr.revision, template: template as PodTemplateSpec, changeCause: cr.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION], source: cr as KubeObject });
  }
  return out;
}

/** kubectl's `REVISION  CHANGE-CAUSE` table (tabwriter, padding 2), oldest first; kubectl's words when there is none. */
export function historyTable(revisions: Map<number, Revision>): string {
  if (revisions.size === 0) return 'No rollout history found.';
  const rows = [...revisions.values()].sort((a, b) => a.revision - b.revision).map((r) => [String(r.revision), r.changeCause || '<none>']);
  const width = Math.max('REVISION'.length, ...rows.map((r) => r[0].length)) + 2;
  return ['REVISION'.padEnd(width) + 'CHANGE-CAUSE', ...rows.map(([v, c]) => v.padEnd(width) + c)].map((l) => l + '\n').join('');
}

const sortedEntries = (m: Record<string, string> | undefined) => Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

function multiline(title: string, entries: [string, string][], sep: string): string {
  if (entries.length === 0) return `${title}:\t<none>\n`;
  return entries.map(([k, v], i) => `${i === 0 ? `${title}:\t` : '\t'}${k}${sep}${v}\n`).join('');
}

function annotationsText(annotations: Record<string, string>): string {
  const entries = sortedEntries(annotations).filter(([k]) => k !== LAST_APPLIED);
  if (entries.length === 0) return '  Annotations:\t<none>\n';
  return entries
    .map(([k, raw], i) => {
      const v = raw.replace(/\n$/, '');
      const lead = i === 0 ? '  Annotations:\t' : '\t';
      if (v.length + k.length + 2 > 140 || v.includes('\n')) return `${lead}${k}:\n${v.split('\n').map((s) => `\t  ${s.length > 138 ? `${s.slice(0, 135)}...` : s}\n`).join('')}`;
      return `${lead}${k}: ${v}\n`;
    })
    .join('');
}

function portsText(c: Container, host: boolean): string {
  return (c.ports ?? []).map((p) => `${host ? (p.hostPort ?? 0) : p.containerPort}/${p.protocol ?? 'TCP'}${p.name ? ` (${p.name})` : ''}`).join(', ');
}

function containerText(c: Container): string {
  let s = `   ${c.name}:\n    Image:\t${c.image ?? ''}\n`;
  const ports = portsText(c, false);
  s += ports.includes(',') ? `    Ports:\t${ports}\n` : `    Port:\t${ports || '<none>'}\n`;
  const hostPorts = portsText(c, true);
  s += hostPorts.includes(',') ? `    Host Ports:\t${hostPorts}\n` : `    Host Port:\t${hostPorts || '<none>'}\n`;
  const lines = (title: string, list: string[] | undefined) => (list?.length ? `    ${title}:\n${list.flatMap((x) => x.split('\n')).map((x) => `      ${x}\n`).join('')}` : '');
  s += lines('Command', c.command) + lines('Args', c.args);
  for (const [title, m] of [['Limits', c.resources?.limits], ['Requests', c.resources?.requests]] as const) {
    const entries = sortedEntries(m as Record<string, string> | undefined);
    if (entries.length) s += `    ${title}:\n${entries.map(([k, v]) => `      ${k}:\t${v}\n`).join('')}`;
  }
  const env = c.env ?? [];
  s += env.length === 0 ? '    Environment:\t<none>\n' : '    Environment:\n';
  for (const e of env) {
    if (e.valueFrom?.secretKeyRef) s += `      ${e.name}:\t<set to the key '${e.valueFrom.secretKeyRef.key}' in secret '${e.valueFrom.secretKeyRef.name}'>\tOptional: ${!!e.valueFrom.secretKeyRef.optional}\n`;
    else if (e.valueFrom?.configMapKeyRef) s += `      ${e.name}:\t<set to the key '${e.valueFrom.configMapKeyRef.key}' of config map '${e.valueFrom.configMapKeyRef.name}'>\tOptional: ${!!e.valueFrom.configMapKeyRef.optional}\n`;
    else if (e.valueFrom?.fieldRef) s += `      ${e.name}:\t (${e.valueFrom.fieldRef.apiVersion ?? 'v1'}:${e.valueFrom.fieldRef.fieldPath})\n`;
    else (e.value ?? '').split('\n').forEach((line, i) => (s += i === 0 ? `      ${e.name}:\t${line}\n` : `      \t${line}\n`));
  }
  const mounts = [...(c.volumeMounts ?? [])].sort((a, b) => (a.mountPath < b.mountPath ? -1 : 1));
  s += mounts.length === 0 ? '    Mounts:\t<none>\n' : '    Mounts:\n';
  for (const m of mounts) s += `      ${m.mountPath} from ${m.name} (${[m.readOnly ? 'ro' : 'rw', ...(m.subPath ? [`path="${m.subPath}"`] : [])].join(',')})\n`;
  return s;
}

function tolerationText(t: Toleration): string {
  let s = t.key ?? '';
  if (t.value) s += `=${t.value}`;
  if (t.effect) s += `:${t.effect}`;
  if (t.operator === 'Exists' && !t.value) s += t.key || t.effect ? ' op=Exists' : 'op=Exists';
  if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) s += ` for ${t.tolerationSeconds}s`;
  return s;
}

/**
 * A pod template as kubectl's DescribePodTemplate writes it into `rollout
 * history --revision` (tab-separated, not aligned). Covers labels,
 * annotations, containers (image, ports, command, resources, env, mounts),
 * volume names, node selectors and tolerations.
 */
export function describePodTemplate(t: PodTemplateSpec): string {
  let s = 'Pod Template:\n';
  s += multiline('  Labels', sortedEntries(t.metadata?.labels), '=');
  if (Object.keys(t.metadata?.annotations ?? {}).length) s += annotationsText(t.metadata!.annotations!);
  const spec = t.spec;
  if (spec?.serviceAccountName) s += `  Service Account:\t${spec.serviceAccountName}\n`;
  if (spec?.initContainers?.length) s += '  Init Containers:\n' + spec.initContainers.map(containerText).join('');
  s += `  Containers:${spec?.containers?.length ? '' : ' <none>'}\n` + (spec?.containers ?? []).map(containerText).join('');
  const vols = spec?.volumes ?? [];
  s += vols.length === 0 ? '  Volumes:\t<none>\n' : '  Volumes:\n' + vols.map((v) => `   ${v.name}:\n`).join('');
  if (spec?.priorityClassName) s += `  Priority Class Name:\t${spec.priorityClassName}\n`;
  s += multiline('  Node-Selectors', sortedEntries(spec?.nodeSelector), '=');
  const tols = [...(spec?.tolerations ?? [])].sort((a, b) => ((a.key ?? '') < (b.key ?? '') ? -1 : 1));
  s += tols.length === 0 ? '  Tolerations:\t<none>\n' : tols.map((x, i) => `${i === 0 ? '  Tolerations:\t' : '\t'}${tolerationText(x)}\n`).join('');
  return s;
}

/**
 * The revision `rollout undo` goes back to: `toRevision`, or (0) the newest
 * before the current one. Errors carry kubectl's words.
 */
export function pickRevision(revisions: Map<number, Revision>, toRevision: number, kind: 'Deployment' | 'other', name: string): Revision {
  if (toRevision < 0) throw new Error(`unable to find specified revision ${toRevision} in history`);
  if (toRevision > 0) {
    const r = revisions.get(toRevision);
    if (!r) throw new Error(`unable to find specified revision ${toRevision} in history`);
    return r;
  }
  const sorted = [...revisions.keys()].sort((a, b) => a - b);
  if (sorted.length < 2) throw new Error(kind === 'Deployment' ? `no rollout history found for deployment "${name}"` : 'no last revision to roll back to');
  return revisions.get(sorted[sorted.length - 2])!;
}

/** Deep equality of JSON values, key order ignored. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => jsonEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function withoutHash(t: PodTemplateSpec): PodTemplateSpec {
  const copy = structuredClone(t);
  if (copy.metadata?.labels) delete copy.metadata.labels[HASH_LABEL];
  return copy;
}

const SKIPPED_ANNOTATIONS = new Set([LAST_APPLIED, REVISION_ANNOTATION, 'deployment.kubernetes.io/revision-history', 'deployment.kubernetes.io/desired-replicas', 'deployment.kubernetes.io/max-replicas', 'deprecated.deployment.rollback.to']);

/**
 * What `rollout undo` of a Deployment writes, as kubectl does it: a JSON patch
 * replacing spec.template with the ReplicaSet's (without its pod-template-hash
 * label) and the annotations with the ReplicaSet's (keeping the Deployment's
 * own bookkeeping ones). Undefined when the template already matches.
 */
export function deploymentUndoPatch(deployment: { metadata?: { annotations?: Record<string, string> }; spec?: { template?: PodTemplateSpec } }, rs: ReplicaSet): unknown[] | undefined {
  const template = withoutHash(rs.spec?.template ?? {});
  if (jsonEqual(template, withoutHash(deployment.spec?.template ?? {}))) return undefined;
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(deployment.metadata?.annotations ?? {})) if (SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(rs.metadata?.annotations ?? {})) if (!SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v;
  return [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ];
}
