import type { KubeObject } from '../../lib/client';
import { age } from '../../lib/duration';

/** A `meta.k8s.io/v1` Table as the apiserver sends it. */
export interface ServerTable {
  kind: 'Table';
  apiVersion?: string;
  metadata?: { resourceVersion?: string };
  columnDefinitions: { name: string; type?: string; format?: string; description?: string; priority?: number }[];
  rows?: { cells: unknown[]; object?: KubeObject }[];
}

export function isTable(x: unknown): x is ServerTable {
  return !!x && typeof x === 'object' && (x as { kind?: unknown }).kind === 'Table' && Array.isArray((x as ServerTable).columnDefinitions);
}

export interface PrintOptions {
  wide?: boolean;
  /** Add a NAMESPACE column first (-A on a namespaced type). */
  withNamespace?: boolean;
  /** Prefix names with `kind/` (several types printed at once). */
  kindPrefix?: string;
  showLabels?: boolean;
}

/** A table ready to print: upper-case headers and string cells. */
export interface Rendered {
  headers: string[];
  rows: string[][];
}

/** kubectl's tabwriter settings: cells padded to the widest plus 3, at least 6; the last column unpadded. */
const PADDING = 3;
const MIN_WIDTH = 6;

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '<none>';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function labelsText(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

/** Column widths for `lines` (headers included), kubectl-style. */
export function columnWidths(lines: string[][], initial: number[] = []): number[] {
  const widths = [...initial];
  for (const line of lines) {
    line.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, MIN_WIDTH, cell.length + PADDING);
    });
  }
  return widths;
}

/** Formats rows with the given widths; the last cell of each row is not padded. */
export function formatLines(lines: string[][], widths: number[]): string {
  return lines.map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]))).join('') + '\n').join('');
}

/** Aligns a header and rows like kubectl (left-aligned, 3 spaces between columns). */
export function formatTable(t: Rendered, includeHeader = true): string {
  const lines = includeHeader ? [t.headers, ...t.rows] : t.rows;
  return formatLines(lines, columnWidths([t.headers, ...t.rows]));
}

/** Renders a server Table: priority>0 columns only when wide, optional NAMESPACE/LABELS, kind prefix on the name column. */
export function renderServerTable(table: ServerTable, opts: PrintOptions = {}): Rendered {
  const cols = table.columnDefinitions.map((c, i) => ({ ...c, i })).filter((c) => opts.wide || !c.priority);
  const nameCol = table.columnDefinitions.findIndex((c) => c.format === 'name');
  const headers = cols.map((c) => c.name.toUpperCase());
  if (opts.withNamespace) headers.unshift('NAMESPACE');
  if (opts.showLabels) headers.push('LABELS');
  const rows = (table.rows ?? []).map((row) => {
    const cells = cols.map((c) => {
      const text = cellText(row.cells[c.i]);
      return opts.kindPrefix && c.i === (nameCol < 0 ? 0 : nameCol) ? `${opts.kindPrefix}/${text}` : text;
    });
    if (opts.withNamespace) cells.unshift(row.object?.metadata?.namespace ?? '');
    if (opts.showLabels) cells.push(labelsText(row.object?.metadata?.labels));
    return cells;
  });
  return { headers, rows };
}

/** kubectl's fallback when the server sends plain objects: NAME and AGE from metadata. */
export function renderObjects(objects: KubeObject[], opts: PrintOptions = {}, now = Date.now()): Rendered {
  const headers = ['NAME', 'AGE'];
  if (opts.withNamespace) headers.unshift('NAMESPACE');
  if (opts.showLabels) headers.push('LABELS');
  const rows = objects.map((o) => {
    const name = o.metadata?.name ?? '';
    const cells = [opts.kindPrefix ? `${opts.kindPrefix}/${name}` : name, age(o.metadata?.creationTimestamp, now)];
    if (opts.withNamespace) cells.unshift(o.metadata?.namespace ?? '');
    if (opts.showLabels) cells.push(labelsText(o.metadata?.labels));
    return cells;
  });
  return { headers, rows };
}
