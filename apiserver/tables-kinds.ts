import { formatLabelSelector, formatLabels } from './selectors';
import { age as ageOf, humanDuration } from '../lib/duration';

/**
 * Printer columns of the kinds beyond the walking skeleton's, as Kubernetes prints them
 * (pkg/printers/internalversion/printers.go, v1.32). Merged into tables.ts's printers.
 */

type Col = [name: string, type: string, priority?: number, format?: string];
export type KindPrinter = { columns: Col[]; cells(obj: any, now: Date): unknown[] };

const since = (ts: string | undefined, now: Date): string => ageOf(ts, now.getTime());
const age = (o: any, now: Date) => since(o?.metadata?.creationTimestamp, now);
const orNone = (s: unknown) => (s === undefined || s === null || s === '' ? '<none>' : String(s));
const names = (cs: any[] | undefined) => (cs ?? []).map((c) => c.name).join(',');
const images = (cs: any[] | undefined) => (cs ?? []).map((c) => c.image).join(',');
const selectorOf = (sel: any) => { const s = sel ? formatLabelSelector(sel) : ''; return s || '<none>'; };
const count = (m: unknown) => (m && typeof m === 'object' ? Object.keys(m).length : 0);
const NAME: Col = ['Name', 'string', 0, 'name'];
const AGE: Col = ['Age', 'string'];
const CREATED_AT: Col = ['Created At', 'date'];

const MODE_ABBREV: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
const accessModes = (modes: string[] | undefined) => (modes ?? []).map((m) => MODE_ABBREV[m] ?? m).join(',');

function quotaUsage(q: any, limits: boolean): string {
  const hard = q.status?.hard ?? q.spec?.hard ?? {};
  const used = q.status?.used ?? {};
  return Object.keys(hard).sort().filter((k) => k.startsWith('limits.') === limits)
    .map((k) => `${k}: ${used[k] ?? '0'}/${hard[k]}`).join(', ');
}

function jobStatus(j: any): string {
  const conds = (j.status?.conditions ?? []).filter((c: any) => c.status === 'True').map((c: any) => c.type);
  if (j.metadata?.deletionTimestamp) return 'Terminating';
  for (const t of ['Complete', 'Failed', 'FailureTarget', 'SuccessCriteriaMet', 'Suspended']) if (conds.includes(t)) return t;
  return 'Running';
}

function jobCompletions(j: any): string {
  const ok = j.status?.succeeded ?? 0;
  if (j.spec?.completions !== undefined && j.spec?.completions !== null) return `${ok}/${j.spec.completions}`;
  const par = j.spec?.parallelism ?? 0;
  return par > 1 ? `${ok}/1 of ${par}` : `${ok}/1`;
}

function jobDuration(j: any, now: Date): string {
  const start = j.status?.startTime;
  if (!start) return '';
  const end = j.status?.completionTime ? Date.parse(j.status.completionTime) : now.getTime();
  return humanDuration(end - Date.parse(start));
}

function ingressHosts(ing: any): string {
  const hosts = (ing.spec?.rules ?? []).map((r: any) => r?.host).filter(Boolean);
  if (!hosts.length) return '*';
  return hosts.length > 4 ? `${hosts.slice(0, 4).join(',')} + ${hosts.length - 4} more...` : hosts.join(',');
}

function lbAddresses(st: any): string {
  return (st?.loadBalancer?.ingress ?? []).map((i: any) => i.ip || i.hostname).filter(Boolean).join(',');
}

function sliceEndpoints(es: any): string {
  const addrs: string[] = (es.endpoints ?? []).flatMap((e: any) => e?.addresses ?? []);
  if (!addrs.length) return '<unset>';
  return addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
}

function hpaTargets(h: any): string {
  const metrics = h.spec?.metrics ?? [];
  if (!metrics.length) return '<none>';
  const cur = h.status?.currentMetrics ?? [];
  const parts = metrics.map((m: any, i: number) => {
    if (m.type === 'Resource') {
      const t = m.resource?.target ?? {};
      const c = cur[i]?.resource?.current;
      if (t.type === 'Utilization') return `${m.resource.name}: ${c?.averageUtilization !== undefined ? `${c.averageUtilization}%` : '<unknown>'}/${t.averageUtilization}%`;
      return `${m.resource?.name}: ${c?.averageValue ?? '<unknown>'}/${t.averageValue ?? t.value}`;
    }
    return `<unknown>/${JSON.stringify(m[m.type?.[0]?.toLowerCase() + m.type?.slice(1)]?.target?.value ?? '')}`;
  });
  return parts.length > 3 ? `${parts.slice(0, 3).join(', ')} + ${parts.length - 3} more...` : parts.join(', ');
}

function subjects(b: any, kind: string): string {
  return (b.subjects ?? []).filter((s: any) => s.kind === kind).map((s: any) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name)).join(', ');
}

function controllerOf(o: any): string {
  const c = (o.metadata?.ownerReferences ?? []).find((r: any) => r.controller);
  if (!c) return '<none>';
  const group = String(c.apiVersion ?? '').includes('/') ? `.${c.apiVersion.split('/')[0]}` : '';
  return `${String(c.kind).toLowerCase()}${group}/${c.name}`;
}

const naOr = (v: unknown) => (v === undefined || v === null ? 'N/A' : String(v));

export const KIND_PRINTERS: Record<string, KindPrinter> = {
  configmaps: { columns: [NAME, ['Data', 'integer'], AGE], cells: (o, now) => [o.metadata?.name, count(o.data) + count(o.binaryData), age(o, now)] },
  secrets: { columns: [NAME, ['Type', 'string'], ['Data', 'integer'], AGE], cells: (o, now) => [o.metadata?.name, o.type ?? '', count(o.data), age(o, now)] },
  serviceaccounts: { columns: [NAME, ['Secrets', 'string'], AGE], cells: (o, now) => [o.metadata?.name, (o.secrets ?? []).length, age(o, now)] },
  persistentvolumes: {
    columns: [NAME, ['Capacity', 'string'], ['Access Modes', 'string'], ['Reclaim Policy', 'string'], ['Status', 'string'], ['Claim', 'string'],
      ['StorageClass', 'string'], ['VolumeAttributesClass', 'string'], ['Reason', 'string'], AGE, ['VolumeMode', 'string', 1]],
    cells(o, now) {
      const ref = o.spec?.claimRef;
      return [o.metadata?.name, o.spec?.capacity?.storage ?? '', accessModes(o.spec?.accessModes), o.spec?.persistentVolumeReclaimPolicy ?? '', o.status?.phase ?? '',
        ref ? `${ref.namespace}/${ref.name}` : '', o.spec?.storageClassName ?? '', o.spec?.volumeAttributesClassName ?? '<unset>', o.status?.reason ?? '', age(o, now), o.spec?.volumeMode ?? '<unset>'];
    },
  },
  persistentvolumeclaims: {
    columns: [NAME, ['Status', 'string'], ['Volume', 'string'], ['Capacity', 'string'], ['Access Modes', 'string'], ['StorageClass', 'string'],
      ['VolumeAttributesClass', 'string'], AGE, ['VolumeMode', 'string', 1]],
    cells(o, now) {
      const bound = o.spec?.volumeName;
      return [o.metadata?.name, o.metadata?.deletionTimestamp ? 'Terminating' : o.status?.phase ?? '', bound ?? '', bound ? o.status?.capacity?.storage ?? '' : '',
        bound ? accessModes(o.status?.accessModes) : '', o.spec?.storageClassName ?? '', o.spec?.volumeAttributesClassName ?? '<unset>', age(o, now), o.spec?.volumeMode ?? '<unset>'];
    },
  },
  resourcequotas: {
    columns: [NAME, AGE, ['Request', 'string'], ['Limit', 'string']],
    cells: (o, now) => [o.metadata?.name, age(o, now), quotaUsage(o, false), quotaUsage(o, true)],
  },
  limitranges: { columns: [NAME, CREATED_AT], cells: (o) => [o.metadata?.name, o.metadata?.creationTimestamp] },
  statefulsets: {
    columns: [NAME, ['Ready', 'string'], AGE, ['Containers', 'string', 1], ['Images', 'string', 1]],
    cells(o, now) {
      const cs = o.spec?.template?.spec?.containers;
      return [o.metadata?.name, `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, age(o, now), names(cs), images(cs)];
    },
  },
  daemonsets: {
    columns: [NAME, ['Desired', 'integer'], ['Current', 'integer'], ['Ready', 'integer'], ['Up-to-date', 'integer'], ['Available', 'integer'],
      ['Node Selector', 'string'], AGE, ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells(o, now) {
      const s = o.status ?? {};
      const cs = o.spec?.template?.spec?.containers;
      const ns = o.spec?.template?.spec?.nodeSelector;
      return [o.metadata?.name, s.desiredNumberScheduled ?? 0, s.currentNumberScheduled ?? 0, s.numberReady ?? 0, s.updatedNumberScheduled ?? 0, s.numberAvailable ?? 0,
        count(ns) ? formatLabels(ns) : '<none>', age(o, now), names(cs), images(cs), selectorOf(o.spec?.selector)];
    },
  },
  controllerrevisions: {
    columns: [NAME, ['Controller', 'string'], ['Revision', 'integer'], AGE],
    cells: (o, now) => [o.metadata?.name, controllerOf(o), o.revision ?? 0, age(o, now)],
  },
  jobs: {
    columns: [NAME, ['Status', 'string'], ['Completions', 'string'], ['Duration', 'string'], AGE, ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells(o, now) {
      const cs = o.spec?.template?.spec?.containers;
      return [o.metadata?.name, jobStatus(o), jobCompletions(o), jobDuration(o, now), age(o, now), names(cs), images(cs), selectorOf(o.spec?.selector)];
    },
  },
  cronjobs: {
    columns: [NAME, ['Schedule', 'string'], ['Timezone', 'string'], ['Suspend', 'boolean'], ['Active', 'integer'], ['Last Schedule', 'string'], AGE,
      ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells(o, now) {
      const js = o.spec?.jobTemplate?.spec;
      const cs = js?.template?.spec?.containers;
      const last = o.status?.lastScheduleTime ? since(o.status.lastScheduleTime, now) : '<none>';
      return [o.metadata?.name, o.spec?.schedule ?? '', orNone(o.spec?.timeZone), o.spec?.suspend === true ? 'True' : 'False', (o.status?.active ?? []).length, last, age(o, now),
        names(cs), images(cs), selectorOf(js?.selector)];
    },
  },
  ingresses: {
    columns: [NAME, ['Class', 'string'], ['Hosts', 'string'], ['Address', 'string'], ['Ports', 'string'], AGE],
    cells(o, now) {
      const cls = o.spec?.ingressClassName ?? o.metadata?.annotations?.['kubernetes.io/ingress.class'];
      return [o.metadata?.name, orNone(cls), ingressHosts(o), lbAddresses(o.status), (o.spec?.tls ?? []).length ? '80, 443' : '80', age(o, now)];
    },
  },
  ingressclasses: {
    columns: [NAME, ['Controller', 'string'], ['Parameters', 'string'], AGE],
    cells(o, now) {
      const p = o.spec?.parameters;
      const params = p ? `${p.apiGroup ? `${p.kind}.${p.apiGroup}` : p.kind}/${p.name}` : '<none>';
      return [o.metadata?.name, o.spec?.controller ?? '', params, age(o, now)];
    },
  },
  networkpolicies: { columns: [NAME, ['Pod-Selector', 'string'], AGE], cells: (o, now) => [o.metadata?.name, selectorOf(o.spec?.podSelector), age(o, now)] },
  endpointslices: {
    columns: [NAME, ['AddressType', 'string'], ['Ports', 'string'], ['Endpoints', 'string'], AGE],
    cells(o, now) {
      const ports = (o.ports ?? []).map((p: any) => p?.port).filter((p: unknown) => p !== undefined && p !== null);
      return [o.metadata?.name, o.addressType ?? '', ports.length ? ports.join(',') : '<unset>', sliceEndpoints(o), age(o, now)];
    },
  },
  horizontalpodautoscalers: {
    columns: [NAME, ['Reference', 'string'], ['Targets', 'string'], ['MinPods', 'string'], ['MaxPods', 'integer'], ['Replicas', 'integer'], AGE],
    cells(o, now) {
      const ref = o.spec?.scaleTargetRef ?? {};
      const targets = o.apiVersion === 'autoscaling/v1'
        ? `cpu: ${o.status?.currentCPUUtilizationPercentage !== undefined ? `${o.status.currentCPUUtilizationPercentage}%` : '<unknown>'}/${o.spec?.targetCPUUtilizationPercentage ?? 80}%`
        : hpaTargets(o);
      return [o.metadata?.name, `${ref.kind}/${ref.name}`, targets, o.spec?.minReplicas ?? '<unset>', o.spec?.maxReplicas ?? 0, o.status?.currentReplicas ?? 0, age(o, now)];
    },
  },
  leases: { columns: [NAME, ['Holder', 'string'], AGE], cells: (o, now) => [o.metadata?.name, o.spec?.holderIdentity ?? '', age(o, now)] },
  storageclasses: {
    columns: [NAME, ['Provisioner', 'string'], ['ReclaimPolicy', 'string'], ['VolumeBindingMode', 'string'], ['AllowVolumeExpansion', 'string'], AGE],
    cells(o, now) {
      const ann = o.metadata?.annotations ?? {};
      const def = ann['storageclass.kubernetes.io/is-default-class'] === 'true' || ann['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
      return [`${o.metadata?.name}${def ? ' (default)' : ''}`, o.provisioner ?? '', o.reclaimPolicy ?? 'Delete', o.volumeBindingMode ?? 'Immediate', o.allowVolumeExpansion === true ? 'true' : 'false', age(o, now)];
    },
  },
  poddisruptionbudgets: {
    columns: [NAME, ['Min Available', 'string'], ['Max Unavailable', 'string'], ['Allowed Disruptions', 'integer'], AGE],
    cells: (o, now) => [o.metadata?.name, naOr(o.spec?.minAvailable), naOr(o.spec?.maxUnavailable), o.status?.disruptionsAllowed ?? 0, age(o, now)],
  },
  roles: { columns: [NAME, CREATED_AT], cells: (o) => [o.metadata?.name, o.metadata?.creationTimestamp] },
  clusterroles: { columns: [NAME, CREATED_AT], cells: (o) => [o.metadata?.name, o.metadata?.creationTimestamp] },
  rolebindings: {
    columns: [NAME, ['Role', 'string'], AGE, ['Users', 'string', 1], ['Groups', 'string', 1], ['ServiceAccounts', 'string', 1]],
    cells: (o, now) => [o.metadata?.name, `${o.roleRef?.kind}/${o.roleRef?.name}`, age(o, now), subjects(o, 'User'), subjects(o, 'Group'), subjects(o, 'ServiceAccount')],
  },
  clusterrolebindings: {
    columns: [NAME, ['Role', 'string'], AGE, ['Users', 'string', 1], ['Groups', 'string', 1], ['ServiceAccounts', 'string', 1]],
    cells: (o, now) => [o.metadata?.name, `${o.roleRef?.kind}/${o.roleRef?.name}`, age(o, now), subjects(o, 'User'), subjects(o, 'Group'), subjects(o, 'ServiceAccount')],
  },
};
