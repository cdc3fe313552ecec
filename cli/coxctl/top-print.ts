import { bytesOf, parseQuantity } from '../../lib/quantity';
import { tabwrite } from './tabwriter';

/**
 * `kubectl top`'s tables from Metrics API objects, pure: CPU in whole millicores rounded up
 * ("%vm"), memory in whole MiB rounded down ("%vMi"), node percentages of allocatable (or
 * capacity) truncated; rows sorted by name (namespace first with -A) or by --sort-by
 * cpu|memory, largest first; nodes without metrics listed last as <unknown>.
 */

export interface Usage { cpu?: string; memory?: string }
export interface NodeMetrics { metadata: { name: string }; usage: Usage }
export interface PodMetrics { metadata: { name: string; namespace?: string }; containers: { name: string; usage: Usage }[] }

function parse(q: string | undefined): number {
  const v = parseQuantity((q ?? '0').trim());
  if (v === undefined) throw new Error(`invalid quantity ${JSON.stringify(q)}`);
  return v;
}

/** A CPU quantity in nanocores. */
export const nanoCores = (q: string | undefined): number => parse(q) * 1e9;
/** A memory quantity in bytes, rounded up as Quantity.Value(). */
export const bytes = (q: string | undefined): number => bytesOf(parse(q));

const milli = (nano: number) => Math.ceil(Math.round(nano) / 1e6);
const cpuText = (nano: number) => `${milli(nano)}m`;
const memText = (b: number) => `${Math.floor(b / (1024 * 1024))}Mi`;
/** Go's float64(usage milli) / float64(available milli) * 100, truncated. */
const percent = (usageMilli: number, availableMilli: number) => `${Math.trunc((usageMilli / availableMilli) * 100)}%`;

const cell = (s: string) => `${s}\t`;

export function formatTopNodes(items: NodeMetrics[], available: Map<string, { cpu?: string; memory?: string }>, o: { noHeaders?: boolean; sortBy?: string } = {}): string {
  if (items.length === 0) return '';
  const rows = items.map((m) => ({ name: m.metadata.name, cpu: nanoCores(m.usage.cpu), mem: bytes(m.usage.memory) }));
  rows.sort((a, b) => (o.sortBy === 'cpu' ? milli(b.cpu) - milli(a.cpu) : o.sortBy === 'memory' ? b.mem - a.mem : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let text = o.noHeaders ? '' : ['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)'].map(cell).join('') + '\n';
  const missing = new Map(available);
  for (const r of rows) {
    const a = available.get(r.name);
    missing.delete(r.name);
    text += cell(r.name) + cell(cpuText(r.cpu));
    if (a?.cpu !== undefined) text += cell(percent(milli(r.cpu), milli(nanoCores(a.cpu))));
    text += cell(memText(r.mem));
    if (a?.memory !== undefined) text += cell(percent(r.mem * 1000, bytes(a.memory) * 1000));
    text += '\n';
  }
  for (const name of [...missing.keys()].sort()) text += cell(name) + cell('<unknown>').repeat(4) + '\n';
  return tabwrite(text);
}

export function formatTopPods(items: PodMetrics[], o: { containers?: boolean; allNamespaces?: boolean; noHeaders?: boolean; sortBy?: string; sum?: boolean } = {}): string {
  if (items.length === 0) return '';
  const total = (p: PodMetrics) => p.containers.reduce((t, c) => ({ cpu: t.cpu + nanoCores(c.usage.cpu), mem: t.mem + bytes(c.usage.memory) }), { cpu: 0, mem: 0 });
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const rows = items.map((p) => ({ p, ns: p.metadata.namespace ?? '', name: p.metadata.name, ...total(p) }));
  rows.sort((a, b) => (o.sortBy === 'cpu' ? milli(b.cpu) - milli(a.cpu) : o.sortBy === 'memory' ? b.mem - a.mem
    : (o.allNamespaces && a.ns !== b.ns ? byName(a.ns, b.ns) : byName(a.name, b.name))));
  let text = '';
  let columns = 3;
  if (!o.noHeaders) {
    if (o.allNamespaces) { text += cell('NAMESPACE'); columns++; }
    if (o.containers) { text += cell('POD'); columns++; }
    text += ['NAME', 'CPU(cores)', 'MEMORY(bytes)'].map(cell).join('') + '\n';
  }
  const line = (name: string, cpu: number, mem: number) => cell(name) + cell(cpuText(cpu)) + cell(memText(mem)) + '\n';
  for (const r of rows) {
    const ns = o.allNamespaces ? cell(r.ns) : '';
    if (!o.containers) {
      text += ns + line(r.name, r.cpu, r.mem);
      continue;
    }
    const cs = r.p.containers.map((c) => ({ name: c.name, cpu: nanoCores(c.usage.cpu), mem: bytes(c.usage.memory) }));
    cs.sort((a, b) => (o.sortBy === 'cpu' ? milli(b.cpu) - milli(a.cpu) : o.sortBy === 'memory' ? b.mem - a.mem : byName(a.name, b.name)));
    for (const c of cs) text += ns + cell(r.name) + line(c.name, c.cpu, c.mem);
  }
  if (o.sum) {
    const t = rows.reduce((s, r) => ({ cpu: s.cpu + r.cpu, mem: s.mem + r.mem }), { cpu: 0, mem: 0 });
    text += cell('').repeat(columns - 2) + cell('________') + cell('________') + '\n';
    text += cell('').repeat(columns - 3) + line('', t.cpu, t.mem);
  }
  return tabwrite(text);
}
