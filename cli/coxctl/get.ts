import YAML from 'yaml';
import { ApiError, type KubeObject } from '../../lib/client';
import { apiVersionOf, resourcePath } from '../../lib/resources';
import { parseResourceArgs } from './args';
import type { Ctx } from './context';
import { typeName, type ResourceInfo } from './discovery';
import { CliError, formatApiError, formatError } from './errors';
import { columnWidths, formatLines, formatTable, isTable, renderObjects, renderServerTable, type PrintOptions, type Rendered, type ServerTable } from './table';

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

export interface GetFlags {
  output?: string;
  allNamespaces?: boolean;
  selector?: string;
  fieldSelector?: string;
  watch?: boolean;
  watchOnly?: boolean;
  showLabels?: boolean;
}

const FORMATS = ['', 'wide', 'yaml', 'json', 'name'];

interface Resolved {
  info: ResourceInfo;
  names: string[];
}

/** Resolves typed requests through discovery; `all` expands to the "all" category. */
export async function resolveRequests(ctx: Ctx, args: string[]): Promise<Resolved[]> {
  const out: Resolved[] = [];
  for (const req of parseResourceArgs(args)) {
    if (req.type.toLowerCase() === 'all') {
      for (const info of (await ctx.discovery.resources()).filter((r) => r.categories.includes('all'))) out.push({ info, names: req.names });
      continue;
    }
    out.push({ info: await ctx.discovery.resolve(req.type), names: req.names });
  }
  return out;
}

/** Fills in the apiVersion and kind that list items lack on the wire. */
function withTypeMeta(obj: KubeObject, info: ResourceInfo): KubeObject {
  return { apiVersion: obj.apiVersion ?? apiVersionOf(info), kind: obj.kind ?? info.kind, ...obj };
}

function asList(items: KubeObject[]): KubeObject {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items } as KubeObject;
}

function printObjects(ctx: Ctx, format: string, objs: KubeObject[], single: boolean): void {
  if (format === 'name') {
    for (const o of objs) ctx.out(`${o.kind ? typeNameOfObject(o) : ''}/${o.metadata?.name ?? ''}\n`);
    return;
  }
  const value = single && objs.length === 1 ? objs[0] : asList(objs);
  if (format === 'json') ctx.out(JSON.stringify(value, null, 4) + '\n');
  else ctx.out(YAML.stringify(value));
}

function typeNameOfObject(o: KubeObject): string {
  const group = (o.apiVersion ?? '').includes('/') ? o.apiVersion!.split('/')[0] : '';
  return typeName({ kind: o.kind ?? '', group });
}

function namespaceFor(ctx: Ctx, info: ResourceInfo, all: boolean | undefined): string | undefined {
  if (!info.namespaced) return undefined;
  return all ? undefined : ctx.namespace;
}

/** `coxctl get`: returns the exit code. */
export async function runGet(ctx: Ctx, args: string[], flags: GetFlags): Promise<number> {
  const format = flags.output ?? '';
  if (!FORMATS.includes(format)) throw new CliError(`unable to match a printer suitable for the output format "${format}", allowed formats are: json,name,wide,yaml`);
  const resolved = await resolveRequests(ctx, args);
  if (flags.allNamespaces && resolved.some((r) => r.names.length > 0)) throw new CliError('a resource cannot be retrieved by name across all namespaces');
  if (flags.watch || flags.watchOnly) {
    if (resolved.length !== 1) throw new CliError('you may only specify a single resource type');
    return watchGet(ctx, resolved[0], flags, format);
  }
  const tableMode = format === '' || format === 'wide';
  const multiType = resolved.length > 1;
  let exit = 0;
  let anyNamed = false;
  const tables: Rendered[] = [];
  const objects: KubeObject[] = [];
  const query = { labelSelector: flags.selector, fieldSelector: flags.fieldSelector };
  for (const { info, names } of resolved) {
    const ns = namespaceFor(ctx, info, flags.allNamespaces);
    const opts: PrintOptions = {
      wide: format === 'wide',
      withNamespace: !!flags.allNamespaces && info.namespaced,
      kindPrefix: multiType ? typeName(info) : undefined,
      showLabels: flags.showLabels,
    };
    const answers: unknown[] = [];
    if (names.length === 0) {
      answers.push(await ctx.client.request('GET', resourcePath(info, { namespace: ns }), { accept: tableMode ? TABLE_ACCEPT : 'application/json', query }));
    } else {
      anyNamed = true;
      for (const name of names) {
        try {
          answers.push(await ctx.client.request('GET', resourcePath(info, { namespace: ns, name }), { accept: tableMode ? TABLE_ACCEPT : 'application/json' }));
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          ctx.err(formatApiError(err) + '\n');
          exit = 1;
        }
      }
    }
    if (tableMode) {
      let merged: Rendered | undefined;
      for (const a of answers) {
        const r = isTable(a) ? renderServerTable(a, opts) : renderObjects(itemsOf(a), opts);
        if (!merged) merged = r;
        else merged.rows.push(...r.rows);
      }
      if (merged && merged.rows.length > 0) tables.push(merged);
    } else {
      for (const a of answers) objects.push(...itemsOf(a).map((o) => withTypeMeta(o, info)));
    }
  }
  if (tableMode) {
    if (tables.length === 0) {
      if (!anyNamed) {
        const nsScoped = resolved.some((r) => r.info.namespaced) && !flags.allNamespaces;
        ctx.err(nsScoped ? `No resources found in ${ctx.namespace} namespace.\n` : 'No resources found\n');
      }
    } else {
      ctx.out(tables.map((t) => formatTable(t)).join('\n'));
    }
  } else {
    const single = resolved.length === 1 && resolved[0].names.length === 1;
    printObjects(ctx, format, objects, single);
  }
  return exit;
}

/** Items of a list answer, or the answer itself when it is one object. */
function itemsOf(a: unknown): KubeObject[] {
  if (!a || typeof a !== 'object') return [];
  const items = (a as { items?: unknown }).items;
  if (Array.isArray(items)) return items as KubeObject[];
  return [a as KubeObject];
}

/** Splits an NDJSON watch body into events, calling `onLine` for each parsed one. */
async function readLines(stream: AsyncIterable<unknown>, onLine: (ev: { type: string; object: unknown }) => void): Promise<void> {
  let buf = '';
  for await (const chunk of stream) {
    buf += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onLine(JSON.parse(line) as { type: string; object: unknown });
    }
  }
  if (buf.trim()) onLine(JSON.parse(buf) as { type: string; object: unknown });
}

/**
 * `get -w`: prints the current state (unless --watch-only), then one row (or
 * object) per watch event, from the list's resourceVersion, until the server
 * ends the stream.
 */
async function watchGet(ctx: Ctx, { info, names }: Resolved, flags: GetFlags, format: string): Promise<number> {
  if (names.length > 1) throw new CliError(`watch is only supported on individual resources and resource collections, but ${names.length} resources were found`);
  const tableMode = format === '' || format === 'wide';
  const ns = namespaceFor(ctx, info, flags.allNamespaces);
  const fieldSelector = [flags.fieldSelector, names[0] ? `metadata.name=${names[0]}` : undefined].filter(Boolean).join(',') || undefined;
  const query = { labelSelector: flags.selector, fieldSelector };
  const accept = tableMode ? TABLE_ACCEPT : 'application/json';
  const opts: PrintOptions = { wide: format === 'wide', withNamespace: !!flags.allNamespaces && info.namespaced, showLabels: flags.showLabels };
  const path = resourcePath(info, { namespace: ns });

  if (names[0]) await ctx.client.request('GET', resourcePath(info, { namespace: ns, name: names[0] }), { accept }); // 404 → error, like kubectl
  const initial = await ctx.client.request<unknown>('GET', path, { accept, query });
  const rv = (initial as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion;
  let columns: ServerTable['columnDefinitions'] | undefined = isTable(initial) ? initial.columnDefinitions : undefined;
  let widths: number[] | undefined;
  const emit = (r: Rendered) => {
    if (!widths) {
      widths = columnWidths([r.headers, ...r.rows]);
      ctx.out(formatLines([r.headers, ...r.rows], widths));
      return;
    }
    widths = columnWidths(r.rows, widths);
    ctx.out(formatLines(r.rows, widths));
  };
  const render = (a: unknown): Rendered => {
    if (isTable(a)) {
      if (a.columnDefinitions.length === 0 && columns) a = { ...a, columnDefinitions: columns };
      else columns = a.columnDefinitions;
      return renderServerTable(a as ServerTable, opts);
    }
    return renderObjects(itemsOf(a), opts);
  };
  if (!flags.watchOnly) {
    if (tableMode) {
      const r = render(initial);
      if (r.rows.length > 0) emit(r);
    } else {
      for (const o of itemsOf(initial)) printObjects(ctx, format, [withTypeMeta(o, info)], true);
    }
  }
  const res = await ctx.client.stream('GET', path, { accept, query: { ...query, watch: 'true', resourceVersion: rv, allowWatchBookmarks: 'true' } });
  let exit = 0;
  await readLines(res, (ev) => {
    if (ev.type === 'BOOKMARK') return;
    if (ev.type === 'ERROR') {
      const s = ev.object as { code?: number; reason?: string; message?: string };
      ctx.err(formatError(new ApiError(s.code ?? 500, s.reason ?? '', s.message ?? 'watch error', s as Record<string, unknown>)) + '\n');
      exit = 1;
      return;
    }
    if (tableMode) emit(render(ev.object));
    else printObjects(ctx, format, [withTypeMeta(ev.object as KubeObject, info)], true);
    if (format === 'yaml') ctx.out('---\n');
  });
  return exit;
}
