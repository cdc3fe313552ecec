import type { LabelSelector, ObjectMeta } from 'kubernetes-types/meta/v1';
import { age } from '../../../lib/duration';
import type { PrinterColumn } from '../types';
import { formatLabelSelector } from '../../selectors';

/**
 * Cell helpers for printer columns (Tables), as Kubernetes' pkg/printers/internalversion
 * formats them: ages, `<none>`, container names and images, selectors.
 */

export const since = (ts: string | undefined, now: Date): string => age(ts, now.getTime());

export const objectAge = (o: { metadata?: ObjectMeta } | undefined, now: Date) => since(o?.metadata?.creationTimestamp, now);

/** `s`, or `<none>` when it is empty or falsy. */
export const noneIfEmpty = (s: string | undefined) => (s ? s : '<none>');

/** `v` as a string, or `<none>` when it is absent or empty. */
export const orNone = (s: unknown) => (s === undefined || s === null || s === '' ? '<none>' : String(s));

export const names = (cs: { name?: string }[] | undefined) => (cs ?? []).map((c) => c.name).join(',');

export const images = (cs: { image?: string }[] | undefined) => (cs ?? []).map((c) => c.image).join(',');

export const selectorOf = (sel: LabelSelector | undefined) => { const s = sel ? formatLabelSelector(sel) : ''; return s || '<none>'; };

export const count = (m: unknown) => (m && typeof m === 'object' ? Object.keys(m).length : 0);

export const NAME: PrinterColumn = ['Name', 'string', 0, 'name'];

export const AGE: PrinterColumn = ['Age', 'string'];

export const CREATED_AT: PrinterColumn = ['Created At', 'date'];
