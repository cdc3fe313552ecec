import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import { withStatus } from '../shared/defs';
import { type FieldError, invalid, required } from '../shared/fields';
import { isObject, objectOr } from '../shared/json';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { ApiObject, Printer, ResourceDef } from '../types';

/** HorizontalPodAutoscaler: autoscaling/v2 is stored; autoscaling/v1 is served by conversion at the REST boundary. */

function hpaDefaults(o: ApiObject): void {
  const s = o.spec;
  if (!s || typeof s !== 'object') return;
  s.minReplicas ??= 1;
  if (!Array.isArray(s.metrics) || s.metrics.length === 0) s.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
}

/** autoscaling/v2 (stored) → autoscaling/v1: the CPU utilization target is the only metric v1 has. */
function hpaV2toV1(o: ApiObject): ApiObject {
  const { metrics, behavior: _b, ...spec } = o.spec ?? {};
  const cpu = (metrics ?? []).find((m: ApiObject) => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization');
  const out: ApiObject = { ...o, apiVersion: 'autoscaling/v1', spec: { ...spec } };
  if (cpu) out.spec.targetCPUUtilizationPercentage = cpu.resource.target.averageUtilization;
  if (o.status) {
    const { currentMetrics, conditions: _c, ...st } = o.status;
    out.status = { ...st };
    const cur = (currentMetrics ?? []).find((m: ApiObject) => m?.type === 'Resource' && m.resource?.name === 'cpu');
    if (cur?.resource?.current?.averageUtilization !== undefined) out.status.currentCPUUtilizationPercentage = cur.resource.current.averageUtilization;
    out.status.currentReplicas ??= 0;
    out.status.desiredReplicas ??= 0;
  }
  return out;
}

/** autoscaling/v1 → autoscaling/v2 (storage). */
function hpaV1toV2(o: ApiObject): ApiObject {
  if (!o || typeof o !== 'object') return o;
  const { targetCPUUtilizationPercentage: cpu, ...spec } = o.spec ?? {};
  const out: ApiObject = { ...o, apiVersion: 'autoscaling/v2', spec };
  if (o.spec === undefined) delete out.spec;
  if (cpu !== undefined) out.spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }];
  if (o.status && typeof o.status === 'object') {
    const { currentCPUUtilizationPercentage: cur, ...st } = o.status;
    out.status = { ...st };
    if (cur !== undefined) out.status.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cur } } }];
  }
  return out;
}

export function validateHPA(o: HorizontalPodAutoscaler): FieldError[] {
  const s = o.spec;
  if (!isObject(s)) return [required('spec')];
  const errs: FieldError[] = [];
  const ref = objectOr(s.scaleTargetRef);
  if (!ref.kind) errs.push(required('spec.scaleTargetRef.kind'));
  if (!ref.name) errs.push(required('spec.scaleTargetRef.name'));
  const min = s.minReplicas, max = s.maxReplicas;
  const positive = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1;
  if (!positive(max)) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to 1'));
  if (min !== undefined && !positive(min)) errs.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (positive(min) && positive(max) && min > max) errs.push(invalid('spec.maxReplicas', s.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  return errs;
}

function hpaTargets(h: ApiObject): string {
  const metrics = h.spec?.metrics ?? [];
  if (!metrics.length) return '<none>';
  const cur = h.status?.currentMetrics ?? [];
  const parts = metrics.map((m: ApiObject, i: number) => {
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

/** One printer for both versions: a v1 object (converted for the client) shows its CPU target. */
const HPA_PRINTER: Printer = {
  columns: [NAME, ['Reference', 'string'], ['Targets', 'string'], ['MinPods', 'string'], ['MaxPods', 'integer'], ['Replicas', 'integer'], AGE],
  cells(o, now) {
    const ref = o.spec?.scaleTargetRef ?? {};
    const targets = o.apiVersion === 'autoscaling/v1'
      ? `cpu: ${o.status?.currentCPUUtilizationPercentage !== undefined ? `${o.status.currentCPUUtilizationPercentage}%` : '<unknown>'}/${o.spec?.targetCPUUtilizationPercentage ?? 80}%`
      : hpaTargets(o);
    return [o.metadata?.name, `${ref.kind}/${ref.name}`, targets, o.spec?.minReplicas ?? '<unset>', o.spec?.maxReplicas ?? 0, o.status?.currentReplicas ?? 0, objectAge(o, now)];
  },
};

const HPA_COMMON = {
  ...withStatus, group: 'autoscaling', kind: 'HorizontalPodAutoscaler', listKind: 'HorizontalPodAutoscalerList', plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler', shortNames: ['hpa'], categories: ['all'], printer: HPA_PRINTER,
};

export const HORIZONTAL_POD_AUTOSCALER_V2: ResourceDef = {
  ...HPA_COMMON, version: 'v2', defaults: hpaDefaults, validate: (o) => validateHPA(o),
};

export const HORIZONTAL_POD_AUTOSCALER_V1: ResourceDef = {
  ...HPA_COMMON, version: 'v1', storageVersion: { version: 'v2', toStorage: hpaV1toV2, fromStorage: hpaV2toV1 },
};
