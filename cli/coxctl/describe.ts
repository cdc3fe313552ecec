import YAML from 'yaml';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Container, ContainerStatus, Endpoints, Event, Pod, Service } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../../lib/client';
import { ENDPOINTS, EVENTS, REPLICASETS, resourcePath } from '../../lib/resources';
import type { Ctx } from './context';
import type { ResourceInfo } from './discovery';
import { formatApiError } from './errors';
import { resolveRequests } from './get';
import { age } from '../../lib/duration';
import { ANN_LAST_ATTEMPT, decodeLastAttempt } from '../../lib/scheduling-diagnosis';
import { schedulingSection } from './explain-pending';
import { columnWidths, formatLines } from './table';

/**
 * A description being written: `key: value` lines at indent levels, aligned
 * per level like kubectl's tabwriter output, plus free-form lines.
 */
export class Description {
  private readonly lines: { indent: number; key?: string; value: string }[] = [];

  kv(key: string, value: unknown, indent = 0): this {
    this.lines.push({ indent, key, value: value === undefined || value === null || value === '' ? '<none>' : String(value) });
    return this;
  }

  /** A key whose value is a list, one per line (Labels, Annotations); `<none>` when empty. */
  list(key: string, values: string[], indent = 0): this {
    if (values.length === 0) return this.kv(key, '<none>', indent);
    this.kv(key, values[0], indent);
    for (const v of values.slice(1)) this.lines.push({ indent, key: '', value: v });
    return this;
  }

  text(value: string, indent = 0): this {
    for (const l of value.replace(/\n$/, '').split('\n')) this.lines.push({ indent, value: l });
    return this;
  }

  render(): string {
    const widths = new Map<number, number>();
    for (const l of this.lines) if (l.key !== undefined) widths.set(l.indent, Math.max(widths.get(l.indent) ?? 0, l.key.length + 1));
    return this.lines
      .map((l) => {
        const pad = ' '.repeat(l.indent * 2);
        if (l.key === undefined) return `${pad}${l.value}\n`;
        const label = l.key ? `${l.key}:` : '';
        return `${pad}${label.padEnd((widths.get(l.indent) ?? 0) + 2)}${l.value}\n`;
      })
      .join('');
  }
}

const mapLines = (m: Record<string, string> | undefined) =>
  Object.entries(m ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`);

function selectorText(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): string {
  const parts = mapLines(sel?.matchLabels);
  for (const e of sel?.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator.toLowerCase() === 'in' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',');
}

/** Name, namespace, labels, annotations (without the last applied configuration, and without the scheduler's last-attempt record, which a pod's Scheduling section shows decoded), creation time, owner. */
function header(d: Description, obj: KubeObject, info: ResourceInfo): void {
  const m = obj.metadata ?? {};
  d.kv('Name', m.name);
  if (info.namespaced) d.kv('Namespace', m.namespace);
  d.list('Labels', mapLines(m.labels));
  d.list(
    'Annotations',
    mapLines(m.annotations).filter((a) => !a.startsWith('kubectl.kubernetes.io/last-applied-configuration=') && !(a.startsWith(`${ANN_LAST_ATTEMPT}=`) && decodeLastAttempt(m.annotations))),
  );
  d.kv('CreationTimestamp', m.creationTimestamp);
  const owner = m.ownerReferences?.find((o) => o.controller);
  if (owner) d.kv('Controlled By', `${owner.kind}/${owner.name}`);
  if (m.deletionTimestamp) d.kv('Deletion Timestamp', m.deletionTimestamp);
}

function containerState(d: Description, label: string, st: ContainerStatus['state'], indent: number): void {
  if (!st) return;
  if (st.running) d.kv(label, 'Running', indent).kv('Started', st.running.startedAt, indent + 1);
  else if (st.waiting) {
    d.kv(label, 'Waiting', indent);
    if (st.waiting.reason) d.kv('Reason', st.waiting.reason, indent + 1);
  } else if (st.terminated) {
    d.kv(label, 'Terminated', indent);
    if (st.terminated.reason) d.kv('Reason', st.terminated.reason, indent + 1);
    d.kv('Exit Code', st.terminated.exitCode, indent + 1);
    if (st.terminated.startedAt) d.kv('Started', st.terminated.startedAt, indent + 1);
    if (st.terminated.finishedAt) d.kv('Finished', st.terminated.finishedAt, indent + 1);
  }
}

function containers(d: Description, title: string, list: Container[] | undefined, statuses: ContainerStatus[] | undefined): void {
  if (!list?.length) return;
  d.text(`${title}:`);
  for (const c of list) {
    const st = statuses?.find((s) => s.name === c.name);
    d.text(`${c.name}:`, 1);
    if (st?.containerID) d.kv('Container ID', st.containerID, 2);
    d.kv('Image', c.image, 2);
    const ports = (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`);
    d.kv('Port', ports.join(', ') || '<none>', 2);
    if (c.command?.length) d.list('Command', c.command, 2);
    if (c.args?.length) d.list('Args', c.args, 2);
    if (st) {
      containerState(d, 'State', st.state, 2);
      if (st.lastState && Object.keys(st.lastState).length) containerState(d, 'Last State', st.lastState, 2);
      d.kv('Ready', st.ready ? 'True' : 'False', 2);
      d.kv('Restart Count', st.restartCount ?? 0, 2);
    }
    const env = (c.env ?? []).map((e) => `${e.name}=${e.value ?? (e.valueFrom ? '<set from reference>' : '')}`);
    if (env.length) d.list('Environment', env, 2);
  }
}

function conditionsTable(d: Description, conds: { type: string; status: string; reason?: string }[] | undefined, withReason: boolean): void {
  if (!conds?.length) return;
  d.text('Conditions:');
  const headers = withReason ? ['Type', 'Status', 'Reason'] : ['Type', 'Status'];
  const rows = conds.map((c) => (withReason ? [c.type, c.status, c.reason ?? ''] : [c.type, c.status]));
  const dashes = headers.map((h) => '-'.repeat(h.length));
  d.text(formatLines([headers, dashes, ...rows], columnWidths([headers, ...rows])), 1);
}

/** The Scheduling section of a pod waiting for a node: its last attempt, nodes grouped by the plugin and reason that rejected them. */
function schedulingDescription(d: Description, pod: Pod): void {
  const section = schedulingSection(pod);
  if (!section) return;
  d.text('Scheduling:');
  for (const [k, v] of section.fields) d.kv(k, v, 1);
  if (!section.rows?.length) return;
  const headers = ['Nodes', 'Plugin', 'Reason', 'On'];
  const dashes = headers.map((h) => '-'.repeat(h.length));
  d.text(formatLines([headers, dashes, ...section.rows], columnWidths([headers, ...section.rows])), 1);
}

function describePod(d: Description, pod: Pod): void {
  d.kv('Priority', pod.spec?.priority ?? 0);
  d.kv('Service Account', pod.spec?.serviceAccountName ?? 'default');
  d.kv('Node', pod.spec?.nodeName ? `${pod.spec.nodeName}${pod.status?.hostIP ? `/${pod.status.hostIP}` : ''}` : '<none>');
  if (pod.status?.startTime) d.kv('Start Time', pod.status.startTime);
  d.kv('Status', pod.metadata?.deletionTimestamp ? 'Terminating' : pod.status?.phase);
  if (pod.status?.reason) d.kv('Reason', pod.status.reason);
  if (pod.status?.message) d.kv('Message', pod.status.message);
  d.kv('IP', pod.status?.podIP);
  containers(d, 'Init Containers', pod.spec?.initContainers, pod.status?.initContainerStatuses);
  containers(d, 'Containers', pod.spec?.containers, pod.status?.containerStatuses);
  conditionsTable(d, pod.status?.conditions, false);
  schedulingDescription(d, pod);
  const vols = pod.spec?.volumes ?? [];
  if (vols.length) {
    d.text('Volumes:');
    for (const v of vols) {
      const type = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
      d.text(`${v.name}:`, 1).kv('Type', type, 2);
    }
  }
  d.kv('QoS Class', pod.status?.qosClass);
  d.list('Node-Selectors', mapLines(pod.spec?.nodeSelector));
}

async function describeDeployment(ctx: Ctx, d: Description, dep: Deployment): Promise<void> {
  const s = dep.status ?? {};
  d.kv('Selector', selectorText(dep.spec?.selector));
  const desired = dep.spec?.replicas ?? 1;
  d.kv('Replicas', `${desired} desired | ${s.updatedReplicas ?? 0} updated | ${s.replicas ?? 0} total | ${s.availableReplicas ?? 0} available | ${s.unavailableReplicas ?? 0} unavailable`);
  const strategy = dep.spec?.strategy?.type ?? 'RollingUpdate';
  d.kv('StrategyType', strategy);
  d.kv('MinReadySeconds', dep.spec?.minReadySeconds ?? 0);
  if (strategy === 'RollingUpdate') {
    const ru = dep.spec?.strategy?.rollingUpdate ?? {};
    d.kv('RollingUpdateStrategy', `${ru.maxUnavailable ?? '25%'} max unavailable, ${ru.maxSurge ?? '25%'} max surge`);
  }
  d.text('Pod Template:');
  d.list('Labels', mapLines(dep.spec?.template?.metadata?.labels), 1);
  for (const c of dep.spec?.template?.spec?.containers ?? []) {
    d.text(`${c.name}:`, 1);
    d.kv('Image', c.image, 2);
    d.kv('Port', (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', ') || '<none>', 2);
  }
  conditionsTable(d, s.conditions, true);
  try {
    const rsList = await ctx.client.request<{ items: ReplicaSet[] }>('GET', resourcePath(REPLICASETS, { namespace: dep.metadata?.namespace }), {
      query: { labelSelector: mapLines(dep.spec?.selector?.matchLabels).join(',') },
    });
    const owned = (rsList.items ?? []).filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === dep.metadata?.uid));
    const hash = (rs: ReplicaSet) => rs.metadata?.labels?.['pod-template-hash'];
    const templateHash = dep.spec?.template?.metadata?.labels?.['pod-template-hash'];
    const newest = owned.sort((a, b) => Number(b.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0) - Number(a.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0));
    const current = newest.find((rs) => templateHash && hash(rs) === templateHash) ?? newest[0];
    const fmt = (rs: ReplicaSet) => `${rs.metadata?.name} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 0} replicas created)`;
    d.kv('OldReplicaSets', newest.filter((rs) => rs !== current && (rs.spec?.replicas ?? 0) > 0).map(fmt).join(', ') || '<none>');
    d.kv('NewReplicaSet', current ? fmt(current) : '<none>');
  } catch {
    d.kv('NewReplicaSet', '<unknown>');
  }
}

async function describeService(ctx: Ctx, d: Description, svc: Service): Promise<void> {
  const spec = svc.spec ?? {};
  d.kv('Selector', mapLines(spec.selector).join(',') || '<none>');
  d.kv('Type', spec.type ?? 'ClusterIP');
  d.kv('IP Family Policy', spec.ipFamilyPolicy);
  d.kv('IP', spec.clusterIP);
  if (spec.clusterIPs?.length) d.kv('IPs', spec.clusterIPs.join(','));
  if (spec.externalName) d.kv('External Name', spec.externalName);
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (ingress.length) d.kv('LoadBalancer Ingress', ingress.map((i) => i.ip ?? i.hostname).join(', '));
  let eps: Endpoints | undefined;
  try {
    eps = await ctx.client.request<Endpoints>('GET', resourcePath(ENDPOINTS, { namespace: svc.metadata?.namespace, name: svc.metadata?.name }));
  } catch {
    eps = undefined;
  }
  for (const p of spec.ports ?? []) {
    const name = p.name || '<unset>';
    d.kv('Port', `${name}  ${p.port}/${p.protocol ?? 'TCP'}`);
    d.kv('TargetPort', `${p.targetPort ?? p.port}/${p.protocol ?? 'TCP'}`);
    if (p.nodePort) d.kv('NodePort', `${name}  ${p.nodePort}/${p.protocol ?? 'TCP'}`);
    const addrs: string[] = [];
    for (const s of eps?.subsets ?? []) {
      const port = s.ports?.find((x) => (x.name ?? '') === (p.name ?? ''));
      if (!port) continue;
      for (const a of s.addresses ?? []) addrs.push(`${a.ip}:${port.port}`);
    }
    d.kv('Endpoints', addrs.join(',') || '<none>');
  }
  d.kv('Session Affinity', spec.sessionAffinity ?? 'None');
}

/** Events about the object, oldest first, as kubectl's Events section. */
async function describeEvents(ctx: Ctx, d: Description, obj: KubeObject, info: ResourceInfo): Promise<void> {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace;
  const fieldSelector = ns ? `involvedObject.name=${name},involvedObject.namespace=${ns}` : `involvedObject.name=${name}`;
  let events: Event[];
  try {
    const list = await ctx.client.request<{ items: Event[] }>('GET', resourcePath(EVENTS, { namespace: ns }), { query: { fieldSelector } });
    events = (list.items ?? []).filter(
      (e) => e.involvedObject?.name === name && (!e.involvedObject.kind || e.involvedObject.kind === info.kind) && (!obj.metadata?.uid || !e.involvedObject.uid || e.involvedObject.uid === obj.metadata.uid),
    );
  } catch (err) {
    d.kv('Events', `<unavailable: ${err instanceof ApiError ? err.message : (err as Error).message}>`);
    return;
  }
  if (events.length === 0) {
    d.kv('Events', '<none>');
    return;
  }
  const when = (e: Event) => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  events.sort((a, b) => Date.parse(when(a) ?? '') - Date.parse(when(b) ?? ''));
  const rows = events.map((e) => {
    const last = age(when(e));
    const count = e.count ?? 1;
    const ageText = count > 1 ? `${last} (x${count} over ${age(e.firstTimestamp ?? when(e))})` : last;
    return [e.type ?? '', e.reason ?? '', ageText, e.source?.component ?? e.reportingComponent ?? '', (e.message ?? '').trim()];
  });
  const headers = ['Type', 'Reason', 'Age', 'From', 'Message'];
  const dashes = headers.map((h) => '-'.repeat(h.length));
  d.text('Events:');
  d.text(formatLines([headers, dashes, ...rows], columnWidths([headers, dashes, ...rows])), 1);
}

async function describeObject(ctx: Ctx, obj: KubeObject, info: ResourceInfo): Promise<string> {
  const d = new Description();
  header(d, obj, info);
  const key = `${info.group}/${info.kind}`;
  if (key === '/Pod') describePod(d, obj as Pod);
  else if (key === 'apps/Deployment') await describeDeployment(ctx, d, obj as Deployment);
  else if (key === '/Service') await describeService(ctx, d, obj as Service);
  else {
    const rest = { ...obj } as Record<string, unknown>;
    for (const k of ['apiVersion', 'kind', 'metadata']) delete rest[k];
    for (const [k, v] of Object.entries(rest)) {
      if (v === undefined) continue;
      if (v && typeof v === 'object') d.text(`${k.charAt(0).toUpperCase()}${k.slice(1)}:`).text(YAML.stringify(v), 1);
      else d.kv(k.charAt(0).toUpperCase() + k.slice(1), v);
    }
  }
  await describeEvents(ctx, d, obj, info);
  return d.render();
}

export interface DescribeFlags {
  selector?: string;
  allNamespaces?: boolean;
}

/** `coxctl describe TYPE [NAME...]`: descriptions separated by a blank line. */
export async function runDescribe(ctx: Ctx, args: string[], flags: DescribeFlags): Promise<number> {
  let exit = 0;
  const out: string[] = [];
  for (const { info, names } of await resolveRequests(ctx, args)) {
    const ns = info.namespaced ? (flags.allNamespaces ? undefined : ctx.namespace) : undefined;
    let objs: KubeObject[] = [];
    if (names.length === 0) {
      const list = await ctx.client.request<{ items: KubeObject[] }>('GET', resourcePath(info, { namespace: ns }), { query: { labelSelector: flags.selector } });
      objs = list.items ?? [];
      if (objs.length === 0) ctx.err(ns ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
    } else {
      for (const name of names) {
        try {
          objs.push(await ctx.client.request<KubeObject>('GET', resourcePath(info, { namespace: ns, name })));
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          ctx.err(formatApiError(err) + '\n');
          exit = 1;
        }
      }
    }
    for (const o of objs) out.push(await describeObject(ctx, o, info));
  }
  ctx.out(out.join('\n'));
  return exit;
}
