import { isDeepStrictEqual } from 'node:util';
import { parseQuantity } from '../../../lib/quantity';
import type { StatusCause } from '../../errors';

/**
 * Field errors in Kubernetes' wording (`field: Required value`, `Invalid value: "X": ...`) and
 * validators of field types several kinds share (ports, quantities). Pure.
 */

export type FieldError = StatusCause & { field: string };

export const required = (field: string, detail?: string): FieldError => ({ field, reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value' });

export const invalid = (field: string, value: unknown, detail: string): FieldError =>
  ({ field, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}` });

export const notSupported = (field: string, value: unknown, allowed: string[]): FieldError =>
  ({ field, reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}` });

export const duplicate = (field: string, value: unknown): FieldError => ({ field, reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(value)}` });

export const forbidden = (field: string, detail: string): FieldError => ({ field, reason: 'FieldValueForbidden', message: `Forbidden: ${detail}` });

/** `field: Invalid value: …: field is immutable` when an update changed the value (deep, key order ignored). */
export function immutable(field: string, next: unknown, old: unknown): FieldError[] {
  return isDeepStrictEqual(next ?? null, old ?? null) ? [] : [invalid(field, next ?? null, 'field is immutable')];
}

export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

export const validPort = (p: unknown) => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;

export const nonNegInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;

export function validateQuantity(v: unknown, field: string): FieldError[] {
  return parseQuantity(v) === undefined ? [invalid(field, v, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")] : [];
}
