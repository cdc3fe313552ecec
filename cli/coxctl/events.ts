import type { Event } from 'kubernetes-types/core/v1';
import type { ObjectList } from '../../lib/client';
import { humanDuration } from '../../lib/duration';
import { EVENTS, resourcePath } from '../../lib/resources';
import type { Ctx } from './context';
import { CliError } from './errors';
import { columnWidths, formatLines } from './table';

export interface EventsFlags {
  allNamespaces?: boolean;
  for?: string;
  types?: string[];
  watch?: boolean;
  noHeaders?: boolean;
}

/** The time an event is sorted by: the series' last sighting, else lastTimestamp, else eventTime. */
export function eventTime(e: Event): number {
  const t = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime;
  return t ? Date.parse(t) : 0;
}

function since(t: string | undefined, now: number): string {
  if (!t || Number.isNaN(Date.parse(t))) return '<unknown>';
  return humanDuration(now - Date.parse(t));
}

/** kubectl events' LAST SEEN: `5s`, or `5s (x3 over 2m)` for a repeated event. */
export function lastSeen(e: Event, now: number): string {
  const first = e.eventTime ? since(e.eventTime, now) : since(e.firstTimestamp, now);
  if (e.series) return `${since(e.series.lastObservedTime, now)} (x${e.series.count} over ${first})`;
  if ((e.count ?? 0) > 1) return `${since(e.lastTimestamp, now)} (x${e.count} over ${first})`;
  return first;
}

export function eventRow(e: Event, now: number, allNamespaces: boolean): string[] {
  const row = [lastSeen(e, now), e.type ?? '', e.reason ?? '', `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`, (e.message ?? '').trim()];
  return allNamespaces ? [e.metadata?.namespace ?? '', ...row] : row;
}

export function eventHeaders(allNamespaces: boolean): string[] {
  const h = ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'];
  return allNamespaces ? ['NAMESPACE', ...h] : h;
}

/** `--types` check and normalisation (pure): Normal and Warning only, any case, sorted and unique. */
export function parseTypes(values: string[] | undefined): string[] {
  const list = [...new Set((values ?? []).flatMap((v) => v.split(',')).filter(Boolean))].sort();
  for (const t of list) if (!/^(normal|warning)$/i.test(t)) throw new CliError('valid --types are Normal or Warning');
  return list;
}

export function typeMatches(types: string[], t: string | undefined): boolean {
  return types.length === 0 || types.some((x) => x.toLowerCase() === (t ?? '').toLowerCase());
}

/** Events of the list to print, oldest first (stable for equal times). */
export function sortEvents(items: Event[], types: string[]): Event[] {
  return items.filter((e) => typeMatches(types, e.type)).sort((a, b) => eventTime(a) - eventTime(b));
}

/**
 * `coxctl events [-A] [--for TYPE/NAME] [--types Warning] [-w]`: kubectl events' table, oldest
 * first; with -w, a watch whose rows print as they come.
 */
export async function runEvents(ctx: Ctx, flags: EventsFlags, stop?: AbortSignal): Promise<number> {
  const types = parseTypes(flags.types);
  const all = !!flags.allNamespaces;
  const ns = all ? undefined : ctx.namespace;
  let fieldSelector: string | undefined;
  if (flags.for) {
    if (!flags.for.includes('/')) throw new CliError('--for must be in resource/name form');
    const parts = flags.for.split('/');
    if (parts.length !== 2) throw new CliError('arguments in resource/name form may not have more than one slash');
    const info = await ctx.discovery.resolve(parts[0]);
    const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
    fieldSelector = `involvedObject.kind=${info.kind},involvedObject.apiVersion=${apiVersion},involvedObject.name=${parts[1]}`;
  }
  if (flags.watch) return watchEvents(ctx, ns, fieldSelector, types, all, !!flags.noHeaders, stop);
  const items: Event[] = [];
  let cont: string | undefined;
  do {
    const page: ObjectList<Event> = await ctx.client.request('GET', resourcePath(EVENTS, { namespace: ns }), { query: { fieldSelector, limit: 500, continue: cont } });
    items.push(...page.items);
    cont = page.metadata?.continue || undefined;
  } while (cont);
  const events = sortEvents(items, types);
  if (events.length === 0) {
    ctx.err(all ? 'No events found.\n' : `No events found in ${ctx.namespace} namespace.\n`);
    return 0;
  }
  const now = Date.now();
  const lines = [...(flags.noHeaders ? [] : [eventHeaders(all)]), ...events.map((e) => eventRow(e, now, all))];
  ctx.out(formatLines(lines, columnWidths(lines)));
  return 0;
}

async function watchEvents(ctx: Ctx, ns: string | undefined, fieldSelector: string | undefined, types: string[], all: boolean, noHeaders: boolean, stop?: AbortSignal): Promise<number> {
  const abort = new AbortController();
  const end = () => abort.abort();
  process.once('SIGINT', end);
  process.once('SIGTERM', end);
  stop?.addEventListener('abort', end, { once: true });
  let headerDone = noHeaders;
  try {
    await ctx.client.watch<Event>(EVENTS, { namespace: ns, fieldSelector, signal: abort.signal }, (ev) => {
      if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') return; // expired events are deleted: not shown
      if (!typeMatches(types, ev.object.type)) return;
      // Like kubectl's tabwriter flushed per event: the first row is aligned with the header only.
      const lines = [...(headerDone ? [] : [eventHeaders(all)]), eventRow(ev.object, Date.now(), all)];
      headerDone = true;
      ctx.out(formatLines(lines, columnWidths(lines)));
    });
  } finally {
    process.off('SIGINT', end);
    process.off('SIGTERM', end);
  }
  return 0;
}
