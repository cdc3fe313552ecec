import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import { withStatus } from '../shared/defs';
import { type FieldError, invalid, required } from '../shared/fields';
import { isObject, objectOr } from '../../json';
import { AGE, NAME, objectAge } from '../shared/printers';
import type { Printer, ResourceDef } from '../types';
import type { ApiObject } from '../../api-object';
import { validateHpaMetricsAndBehavior } from './hpa-validation';

/** HorizontalPodAutoscaler: autoscaling/v2 is stored; autoscaling/v1 is served by conversion at the REST boundary. */

/** A metric of either version as conversion and the printer read it. */
interface HpaMetric {
  type?: string;
  resource?: {
    name?: string;
    target?: { type?: string; averageUtilization?: number; averageValue?: string; value?: string };
    current?: { averageUtilization?: number; averageValue?: string };
  };
  [source: string]: unknown;
}

interface HpaSpec {
  metrics?: HpaMetric[];
  behavior?: unknown;
  targetCPUUtilizationPercentage?: number;
  minReplicas?: number;
  maxReplicas?: number;
  scaleTargetRef?: { kind?: string; name?: string };
}

interface HpaStatus {
  currentMetrics?: HpaMetric[];
  conditions?: unknown;
  currentCPUUtilizationPercentage?: number;
  currentReplicas?: number;
  desiredReplicas?: number;
}

/**
 * An HPA of either version (v1 or v2), with the fields conversion and the printer touch; a v1
 * body is converted before validation, so each may be absent.
 */
interface Hpa extends ApiObject { apiVersion?: string; spec?: HpaSpec; status?: HpaStatus }

/**
 * Kubernetes' scaling rules when `behavior` is given: scale up by 4 pods or 100% per 15 s, no
 * stabilization; scale down by 100% per 15 s, its window left unset (the controller's
 * --horizontal-pod-autoscaler-downscale-stabilization fills it).
 */
const scaleUpRules = () => ({ stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] });
const scaleDownRules = () => ({ selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });

/** The given rules' fields over the defaults (each field that is set wins, as upstream's copyHPAScalingRules). */
function withRuleDefaults(given: unknown, defaults: Record<string, unknown>): unknown {
  if (given !== undefined && given !== null && !isObject(given)) return given;
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(objectOr(given))) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

function hpaDefaults(o: HorizontalPodAutoscaler): void {
  const s = o.spec;
  if (!s || typeof s !== 'object') return;
  s.minReplicas ??= 1;
  if (!Array.isArray(s.metrics) || s.metrics.length === 0) s.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  if (isObject(s.behavior)) {
    const b = s.behavior as Record<string, unknown>;
    b.scaleUp = withRuleDefaults(b.scaleUp, scaleUpRules());
    b.scaleDown = withRuleDefaults(b.scaleDown, scaleDownRules());
  }
}

/** autoscaling/v2 (stored) → autoscaling/v1: the CPU utilization target is the only metric v1 has. */
function hpaV2toV1(stored: ApiObject): ApiObject {
  const o = stored as Hpa;
  const full: HpaSpec = o.spec ?? {};
  const { metrics, behavior: _b, ...spec } = full;
  const cpu = (metrics ?? []).find((m) => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization');
  const outSpec: HpaSpec = { ...spec };
  const out: Hpa = { ...o, apiVersion: 'autoscaling/v1', spec: outSpec };
  if (cpu) outSpec.targetCPUUtilizationPercentage = cpu.resource?.target?.averageUtilization;
  if (o.status) {
    const { currentMetrics, conditions: _c, ...st } = o.status;
    const outStatus: HpaStatus = { ...st };
    out.status = outStatus;
    const cur = (currentMetrics ?? []).find((m) => m?.type === 'Resource' && m.resource?.name === 'cpu');
    if (cur?.resource?.current?.averageUtilization !== undefined) outStatus.currentCPUUtilizationPercentage = cur.resource.current.averageUtilization;
    outStatus.currentReplicas ??= 0;
    outStatus.desiredReplicas ??= 0;
  }
  return out;
}

/** autoscaling/v1 → autoscaling/v2 (storage): a request body or a patched one, before any check. */
function hpaV1toV2(body: unknown): unknown {
  if (!body || typeof body !== 'object') return body;
  const o = body as Partial<Hpa>;
  const full: HpaSpec = o.spec ?? {};
  const { targetCPUUtilizationPercentage: cpu, ...spec } = full;
  const out: Partial<Hpa> = { ...o, apiVersion: 'autoscaling/v2', spec };
  if (o.spec === undefined) delete out.spec;
  if (cpu !== undefined) spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }];
  if (o.status && typeof o.status === 'object') {
    const { currentCPUUtilizationPercentage: cur, ...st } = o.status;
    const outStatus: HpaStatus = { ...st };
    out.status = outStatus;
    if (cur !== undefined) outStatus.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cur } } }];
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
  errs.push(...validateHpaMetricsAndBehavior(s as unknown as Record<string, unknown>));
  return errs;
}

/** A metric target or current value as the printer reads it. */
interface MetricValue { averageUtilization?: number; averageValue?: string; value?: string }

const valueOf = (o: unknown, field: keyof MetricValue): unknown => objectOr(o)[field];
const shown = (v: unknown): string => (v === undefined || v === null ? '<nil>' : String(v));

/**
 * The TARGETS column as kubectl 1.32 prints it (formatHPAMetrics): per metric `current/target`,
 * Resource and ContainerResource ones prefixed with the resource name (`cpu: 180%/50%`,
 * `memory: 45764608/100Mi`), `<unknown>` for a current value not known yet, `(avg)` after
 * average-value Object and External targets, at most two metrics then `+ N more...`.
 */
export function hpaTargets(specs: HpaMetric[] | undefined, statuses: HpaMetric[] | undefined): string {
  if (!specs?.length) return '<none>';
  const cur = statuses ?? [];
  const list = specs.map((spec, i) => {
    const st = objectOr(cur[i]);
    const source = (name: string) => objectOr(objectOr(spec)[name]);
    const current = (name: string) => (st[name] !== undefined && st[name] !== null ? objectOr(objectOr(st[name]).current) : undefined);
    switch (spec?.type) {
      case 'External':
      case 'Object': {
        const name = spec.type === 'External' ? 'external' : 'object';
        const target = objectOr(source(name).target);
        const c = current(name);
        if (target.averageValue !== undefined && target.averageValue !== null) {
          const now = c && c.averageValue !== undefined && c.averageValue !== null ? String(c.averageValue) : '<unknown>';
          return `${now}/${String(target.averageValue)} (avg)`;
        }
        return `${c ? shown(c.value) : '<unknown>'}/${shown(target.value)}`;
      }
      case 'Pods': {
        const c = current('pods');
        return `${c ? shown(c.averageValue) : '<unknown>'}/${shown(valueOf(source('pods').target, 'averageValue'))}`;
      }
      case 'Resource':
      case 'ContainerResource': {
        const name = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const src = source(name);
        const target = objectOr(src.target);
        const c = current(name);
        if (target.averageValue !== undefined && target.averageValue !== null) {
          return `${String(src.name)}: ${c ? shown(c.averageValue) : '<unknown>'}/${String(target.averageValue)}`;
        }
        const now = c && typeof c.averageUtilization === 'number' ? `${c.averageUtilization}%` : '<unknown>';
        const want = typeof target.averageUtilization === 'number' ? `${target.averageUtilization}%` : '<auto>';
        return `${String(src.name)}: ${now}/${want}`;
      }
      default:
        return '<unknown type>';
    }
  });
  return list.length > 2 ? `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...` : list.join(', ');
}

/** One printer for both versions: a v1 object (converted for the client) shows its CPU target. */
const HPA_PRINTER: Printer = {
  columns: [NAME, ['Reference', 'string'], ['Targets', 'string'], ['MinPods', 'string'], ['MaxPods', 'integer'], ['Replicas', 'integer'], AGE],
  cells(stored, now) {
    const o = stored as Hpa;
    const ref: NonNullable<HpaSpec['scaleTargetRef']> = o.spec?.scaleTargetRef ?? {};
    const targets = o.apiVersion === 'autoscaling/v1'
      ? `cpu: ${o.status?.currentCPUUtilizationPercentage !== undefined ? `${o.status.currentCPUUtilizationPercentage}%` : '<unknown>'}/${o.spec?.targetCPUUtilizationPercentage ?? 80}%`
      : hpaTargets(o.spec?.metrics, o.status?.currentMetrics);
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
