import { RESOURCES } from './registry';
import type { Printer } from './groups/types';
import type { ApiObject } from './api-object';
import { isObject } from './json';
import { objectAge } from './groups/shared/printers';

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

const PRINTERS = new Map<string, Printer>(RESOURCES.flatMap((d) => (d.printer ? [[d.plural, d.printer] as const] : [])));

const DEFAULT_PRINTER: Printer = {
  columns: [['Name', 'string', 0, 'name'], ['Age', 'string']],
  cells: (o, now) => [o.metadata?.name, objectAge(o, now)],
};

export function columnsFor(resource: string): TableColumnDefinition[] {
  return (PRINTERS.get(resource) ?? DEFAULT_PRINTER).columns.map(([name, type, priority = 0, format = '']) => ({ name, type, format, description: '', priority }));
}

function partial(obj: unknown): unknown {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: isObject(obj) && obj.metadata !== undefined && obj.metadata !== null ? obj.metadata : {} };
}

/** Render `objects` of `resource` (plural, e.g. "pods") as a Table; they are API objects (stored, or converted for the client). */
export function toTable(resource: string, objects: readonly unknown[], opts: ToTableOptions = {}): Table {
  const printer = PRINTERS.get(resource) ?? DEFAULT_PRINTER;
  const now = opts.now ?? new Date();
  const include = opts.includeObject ?? 'Metadata';
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: opts.resourceVersion !== undefined ? { resourceVersion: opts.resourceVersion } : {},
    columnDefinitions: opts.noHeaders ? [] : columnsFor(resource),
    rows: objects.map((o) => {
      const row: TableRow = { cells: printer.cells(o as ApiObject, now) };
      if (include === 'Object') row.object = o;
      else if (include === 'Metadata') row.object = partial(o);
      return row;
    }),
  };
}
