import { parseQuantity } from '../../../lib/quantity';
import { isObject, objectOr } from '../../json';
import { type FieldError, forbidden, invalid, notSupported, required, validateQuantity } from '../shared/fields';

/**
 * What Kubernetes' HPA validation checks of `spec.metrics` and `spec.behavior`, in its words:
 * each metric names its source type and fills that source; a target is positive; a Resource
 * target is either a utilization or an average value; scaling rules have policies with positive
 * values, periods of at most 30 minutes and windows of at most an hour. Pure.
 */

const SOURCES: Record<string, string> = { Object: 'object', Pods: 'pods', Resource: 'resource', ContainerResource: 'containerResource', External: 'external' };
const TARGET_TYPES = ['Utilization', 'Value', 'AverageValue'];

function validateTarget(t: unknown, field: string): FieldError[] {
  const target = objectOr(t);
  const errs: FieldError[] = [];
  if (!target.type) errs.push(required(`${field}.type`, 'must specify a metric target type'));
  else if (!TARGET_TYPES.includes(String(target.type))) errs.push(invalid(`${field}.type`, target.type, 'must be either Utilization, Value, or AverageValue'));
  for (const q of ['value', 'averageValue'] as const) {
    if (target[q] === undefined || target[q] === null) continue;
    const bad = validateQuantity(target[q], `${field}.${q}`);
    if (bad.length) errs.push(...bad);
    else if (!((parseQuantity(target[q]) ?? 0) > 0)) errs.push(invalid(`${field}.${q}`, target[q], 'must be positive'));
  }
  const u = target.averageUtilization;
  if (u !== undefined && u !== null && !(Number.isInteger(u) && (u as number) >= 1)) errs.push(invalid(`${field}.averageUtilization`, u, 'must be greater than 0'));
  return errs;
}

function validateMetric(m: unknown, field: string): FieldError[] {
  const spec = objectOr(m);
  if (!spec.type) return [required(`${field}.type`, 'must specify a metric source type')];
  const sourceName = SOURCES[String(spec.type)];
  if (!sourceName) return [notSupported(`${field}.type`, spec.type, Object.keys(SOURCES))];
  if (!isObject(spec[sourceName])) return [required(`${field}.${sourceName}`, 'must populate information for the given metric source')];
  const source = objectOr(spec[sourceName]);
  const errs: FieldError[] = [];
  if (sourceName === 'resource' || sourceName === 'containerResource') {
    if (!source.name) errs.push(required(`${field}.${sourceName}.name`, 'must specify a resource name'));
    if (sourceName === 'containerResource' && !source.container) errs.push(required(`${field}.${sourceName}.container`, 'must specify a container'));
    const target = objectOr(source.target);
    const hasValue = target.averageValue !== undefined && target.averageValue !== null;
    const hasUtil = target.averageUtilization !== undefined && target.averageUtilization !== null;
    if (!hasValue && !hasUtil) errs.push(required(`${field}.${sourceName}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
    if (hasValue && hasUtil) errs.push(forbidden(`${field}.${sourceName}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
  } else if (!objectOr(source.metric).name) {
    errs.push(required(`${field}.${sourceName}.metric.name`, 'must specify a metric name'));
  }
  errs.push(...validateTarget(source.target, `${field}.${sourceName}.target`));
  return errs;
}

function validateRules(r: unknown, field: string): FieldError[] {
  if (r === undefined || r === null) return [];
  const rules = objectOr(r);
  const errs: FieldError[] = [];
  const w = rules.stabilizationWindowSeconds;
  if (w !== undefined && w !== null) {
    if (!Number.isInteger(w) || (w as number) < 0) errs.push(invalid(`${field}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
    else if ((w as number) > 3600) errs.push(invalid(`${field}.stabilizationWindowSeconds`, w, 'must be less than or equal to 3600'));
  }
  if (rules.selectPolicy !== undefined && rules.selectPolicy !== null && !['Max', 'Min', 'Disabled'].includes(String(rules.selectPolicy))) {
    errs.push(notSupported(`${field}.selectPolicy`, rules.selectPolicy, ['Disabled', 'Max', 'Min']));
  }
  const policies = Array.isArray(rules.policies) ? rules.policies : [];
  if (policies.length === 0) errs.push(required(`${field}.policies`, 'must specify at least one Policy'));
  policies.forEach((p: unknown, i: number) => {
    const pol = objectOr(p);
    const f = `${field}.policies[${i}]`;
    if (pol.type !== 'Pods' && pol.type !== 'Percent') errs.push(notSupported(`${f}.type`, pol.type ?? '', ['Percent', 'Pods']));
    if (!(Number.isInteger(pol.value) && (pol.value as number) > 0)) errs.push(invalid(`${f}.value`, pol.value ?? 0, 'must be greater than zero'));
    const period = pol.periodSeconds;
    if (!(Number.isInteger(period) && (period as number) > 0)) errs.push(invalid(`${f}.periodSeconds`, period ?? 0, 'must be greater than zero'));
    else if ((period as number) > 1800) errs.push(invalid(`${f}.periodSeconds`, period, 'must be less than or equal to 1800'));
  });
  return errs;
}

export function validateHpaMetricsAndBehavior(spec: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  const metrics = Array.isArray(spec.metrics) ? spec.metrics : [];
  metrics.forEach((m: unknown, i: number) => errs.push(...validateMetric(m, `spec.metrics[${i}]`)));
  if (isObject(spec.behavior)) {
    const b = objectOr(spec.behavior);
    errs.push(...validateRules(b.scaleUp, 'spec.behavior.scaleUp'), ...validateRules(b.scaleDown, 'spec.behavior.scaleDown'));
  }
  return errs;
}
