import { age, humanDuration } from '../lib/duration';
import { formatLabelSelector, formatLabels } from './selectors';
import { KIND_PRINTERS } from './tables-kinds';

/**
 * meta.k8s.io/v1 Table rendering with Kubernetes' own printer columns
 * (pkg/printers/internalversion/printers.go). Pure and reusable: the apiserver uses it to
 * answer `Accept: application/json;as=Table;...`, coxctl imports it to print.
 *
 * The table always carries every column; `priority > 0` columns are the `-o wide` ones.
 */

export interface TableColumnDefinition { name: string; type: string; format: string; description: string; priority: number }
export interface TableRow { cells: unknown[]; object?: unknown }
export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface ToTableOptions {
  /** 'None' omits row objects, 'Metadata' (default) sends PartialObjectMetadata, 'Object' the full object. */
  includeObject?: 'None' | 'Metadata' | 'Object';
  /** Clock for AGE columns (default: now). */
  now?: Date;
  resourceVersion?: string;
  /** Leave column definitions out (watch events after the first, like Kubernetes). */
  noHeaders?: boolean;
}

type Col = [name: string, type: string, priority?: number, format?: string];
type Printer = { columns: Col[]; cells(obj: any, now: Date): unknown[] };

const since = (ts: string | undefined, now: Date): string => age(ts, now.getTime());

const objectAge = (o: any, now: Date) => since(o?.metadata?.creationTimestamp, now);
const orNone = (s: string | undefined) => (s ? s : '<none>');
const names = (cs: any[] | undefined) => (cs ?? []).map((c) => c.name).join(',');
const images = (cs: any[] | undefined) => (cs ?? []).map((c) => c.image).join(',');
const selectorOf = (sel: any) => { const s = sel ? formatLabelSelector(sel) : ''; return s || '<none>'; };

function podStatus(pod: any, now: Date): { reason: string; ready: number; total: number; restarts: string } {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  let restarts = 0;
  let lastRestart = 0;
  const total = (spec.containers ?? []).length;
  let ready = 0;
  let reason: string = status.reason || status.phase || '';
  for (const c of status.conditions ?? []) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }
  const noteRestart = (c: any) => {
    restarts += c.restartCount ?? 0;
    const fin = c.lastState?.terminated?.finishedAt;
    if (fin) lastRestart = Math.max(lastRestart, Date.parse(fin) || 0);
  };
  let initializing = false;
  const inits = status.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i];
    noteRestart(c);
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (term) reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
    else if (wait?.reason && wait.reason !== 'PodInitializing') reason = `Init:${wait.reason}`;
    else reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    initializing = true;
    break;
  }
  const initializedTrue = (status.conditions ?? []).some((c: any) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = 0;
    lastRestart = 0;
    let hasRunning = false;
    const cs = status.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      noteRestart(c);
      const st = c.state ?? {};
      if (st.waiting?.reason) reason = st.waiting.reason;
      else if (st.terminated?.reason) reason = st.terminated.reason;
      else if (st.terminated) reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode}`;
      else if (c.ready && st.running) { hasRunning = true; ready++; }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = (status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && !terminal) reason = 'Terminating';
  const restartsStr = lastRestart ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)` : String(restarts);
  return { reason, ready, total, restarts: restartsStr };
}

function nodeStatus(node: any): string {
  const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(node: any): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries<string>(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) { const r = k.slice('node-role.kubernetes.io/'.length); if (r) roles.add(r); }
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

const nodeAddress = (node: any, type: string) => orNone((node.status?.addresses ?? []).find((a: any) => a.type === type)?.address);

function serviceExternalIP(svc: any): string {
  const spec = svc.spec ?? {};
  const ext: string[] = spec.externalIPs ?? [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP': case 'NodePort': return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip || i.hostname).filter(Boolean);
      const all = [...ips, ...ext];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName': return spec.externalName ?? '<none>';
    default: return '<unknown>';
  }
}

function servicePorts(svc: any): string {
  const ports = svc.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p: any) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

export function formatEndpoints(ep: any): string {
  const subsets = ep.subsets ?? [];
  if (!subsets.length) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  const add = (s: string) => { if (list.length === max) more = true; else list.push(s); };
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    if (!(ss.ports ?? []).length) {
      count += addrs.length;
      for (const a of addrs) add(a.ip);
    } else {
      for (const p of ss.ports) {
        count += addrs.length;
        for (const a of addrs) add(a.ip.includes(':') ? `[${a.ip}]:${p.port}` : `${a.ip}:${p.port}`);
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret || '<none>';
}

function eventLastSeen(ev: any, now: Date): string {
  const last = ev.series?.lastObservedTime ?? ev.lastTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp;
  const first = ev.firstTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp;
  const count = ev.series?.count ?? ev.count ?? 1;
  const l = since(last, now);
  return count > 1 && first ? `${l} (x${count} over ${since(first, now)})` : l;
}

const PRINTERS: Record<string, Printer> = {
  ...KIND_PRINTERS, // configmaps, secrets, statefulsets, jobs, ingresses, rbac, … (tables-kinds.ts)
  pods: {
    columns: [['Name', 'string', 0, 'name'], ['Ready', 'string'], ['Status', 'string'], ['Restarts', 'string'], ['Age', 'string'],
      ['IP', 'string', 1], ['Node', 'string', 1], ['Nominated Node', 'string', 1], ['Readiness Gates', 'string', 1]],
    cells(p, now) {
      const s = podStatus(p, now);
      const ip = p.status?.podIPs?.[0]?.ip ?? p.status?.podIP;
      const gates = p.spec?.readinessGates ?? [];
      let gatesStr = '<none>';
      if (gates.length) {
        const trueConds = new Set((p.status?.conditions ?? []).filter((c: any) => c.status === 'True').map((c: any) => c.type));
        gatesStr = `${gates.filter((g: any) => trueConds.has(g.conditionType)).length}/${gates.length}`;
      }
      return [p.metadata?.name, `${s.ready}/${s.total}`, s.reason, s.restarts, objectAge(p, now), orNone(ip), orNone(p.spec?.nodeName), orNone(p.status?.nominatedNodeName), gatesStr];
    },
  },
  deployments: {
    columns: [['Name', 'string', 0, 'name'], ['Ready', 'string'], ['Up-to-date', 'integer'], ['Available', 'integer'], ['Age', 'string'],
      ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells(d, now) {
      const st = d.status ?? {};
      const tpl = d.spec?.template?.spec?.containers;
      return [d.metadata?.name, `${st.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`, st.updatedReplicas ?? 0, st.availableReplicas ?? 0, objectAge(d, now), names(tpl), images(tpl), selectorOf(d.spec?.selector)];
    },
  },
  replicasets: {
    columns: [['Name', 'string', 0, 'name'], ['Desired', 'integer'], ['Current', 'integer'], ['Ready', 'integer'], ['Age', 'string'],
      ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells(r, now) {
      const tpl = r.spec?.template?.spec?.containers;
      return [r.metadata?.name, r.spec?.replicas ?? 0, r.status?.replicas ?? 0, r.status?.readyReplicas ?? 0, objectAge(r, now), names(tpl), images(tpl), selectorOf(r.spec?.selector)];
    },
  },
  services: {
    columns: [['Name', 'string', 0, 'name'], ['Type', 'string'], ['Cluster-IP', 'string'], ['External-IP', 'string'], ['Port(s)', 'string'], ['Age', 'string'], ['Selector', 'string', 1]],
    cells(s, now) {
      return [s.metadata?.name, s.spec?.type ?? 'ClusterIP', orNone(s.spec?.clusterIP), serviceExternalIP(s), servicePorts(s), objectAge(s, now), formatLabels(s.spec?.selector)];
    },
  },
  nodes: {
    columns: [['Name', 'string', 0, 'name'], ['Status', 'string'], ['Roles', 'string'], ['Age', 'string'], ['Version', 'string'],
      ['Internal-IP', 'string', 1], ['External-IP', 'string', 1], ['OS-Image', 'string', 1], ['Kernel-Version', 'string', 1], ['Container-Runtime', 'string', 1]],
    cells(n, now) {
      const info = n.status?.nodeInfo ?? {};
      return [n.metadata?.name, nodeStatus(n), nodeRoles(n), objectAge(n, now), info.kubeletVersion ?? '',
        nodeAddress(n, 'InternalIP'), nodeAddress(n, 'ExternalIP'), info.osImage || '<unknown>', info.kernelVersion || '<unknown>', info.containerRuntimeVersion || '<unknown>'];
    },
  },
  namespaces: {
    columns: [['Name', 'string', 0, 'name'], ['Status', 'string'], ['Age', 'string']],
    cells: (n, now) => [n.metadata?.name, n.status?.phase ?? '', objectAge(n, now)],
  },
  endpoints: {
    columns: [['Name', 'string', 0, 'name'], ['Endpoints', 'string'], ['Age', 'string']],
    cells: (e, now) => [e.metadata?.name, formatEndpoints(e), objectAge(e, now)],
  },
  events: {
    columns: [['Last Seen', 'string'], ['Type', 'string'], ['Reason', 'string'], ['Object', 'string'], ['Subobject', 'string', 1],
      ['Source', 'string', 1], ['Message', 'string'], ['First Seen', 'string', 1], ['Count', 'string', 1], ['Name', 'string', 1, 'name']],
    cells(e, now) {
      const io = e.involvedObject ?? {};
      const src = e.source?.component ? [e.source.component, e.source.host].filter(Boolean).join(', ') : e.reportingComponent ?? '';
      return [eventLastSeen(e, now), e.type ?? '', e.reason ?? '', `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`, io.fieldPath ?? '',
        src, String(e.message ?? '').trim(), since(e.firstTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp, now), String(e.count ?? 1), e.metadata?.name];
    },
  },
};

const DEFAULT_PRINTER: Printer = {
  columns: [['Name', 'string', 0, 'name'], ['Age', 'string']],
  cells: (o, now) => [o.metadata?.name, objectAge(o, now)],
};

export function columnsFor(resource: string): TableColumnDefinition[] {
  return (PRINTERS[resource] ?? DEFAULT_PRINTER).columns.map(([name, type, priority = 0, format = '']) => ({ name, type, format, description: '', priority }));
}

function partial(obj: any): unknown {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj?.metadata ?? {} };
}

/** Render `objects` of `resource` (plural, e.g. "pods") as a Table. */
export function toTable(resource: string, objects: readonly unknown[], opts: ToTableOptions = {}): Table {
  const printer = PRINTERS[resource] ?? DEFAULT_PRINTER;
  const now = opts.now ?? new Date();
  const include = opts.includeObject ?? 'Metadata';
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: opts.resourceVersion !== undefined ? { resourceVersion: opts.resourceVersion } : {},
    columnDefinitions: opts.noHeaders ? [] : columnsFor(resource),
    rows: objects.map((o) => {
      const row: TableRow = { cells: printer.cells(o, now) };
      if (include === 'Object') row.object = o;
      else if (include === 'Metadata') row.object = partial(o);
      return row;
    }),
  };
}
