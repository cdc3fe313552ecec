import type { ConfigMap } from 'kubernetes-types/core/v1';
import { immutableData, validateConfigKeys } from './config-data';
import { base } from '../shared/defs';
import { type FieldError, invalid } from '../shared/fields';
import { isObject } from '../../json';
import { AGE, count, NAME, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** ConfigMap (core/v1). */

export function validateConfigMap(cm: ConfigMap, old?: ConfigMap): FieldError[] {
  const errs = [...validateConfigKeys(cm.data, 'data', { strings: true }), ...validateConfigKeys(cm.binaryData, 'binaryData', { base64: true })];
  for (const k of Object.keys(isObject(cm.data) ? cm.data : {})) if (isObject(cm.binaryData) && k in cm.binaryData) errs.push(invalid('data', k, 'duplicate of key present in binaryData'));
  errs.push(...immutableData(cm, old, ['data', 'binaryData']));
  return errs;
}

export const CONFIG_MAP: ResourceDef = {
  ...base, group: '', kind: 'ConfigMap', listKind: 'ConfigMapList', plural: 'configmaps', singular: 'configmap', shortNames: ['cm'],
  validate: (o, _c, old) => validateConfigMap(o, old),
  printer: { columns: [NAME, ['Data', 'integer'], AGE], cells: (o: ConfigMap, now) => [o.metadata?.name, count(o.data) + count(o.binaryData), objectAge(o, now)] },
};
