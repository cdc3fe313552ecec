import { CliError } from './errors';

/**
 * `coxctl wait --for=...` (pure): parses the condition and checks it against an object, with
 * kubectl's rules: condition names and values compare case-insensitively, a condition older than
 * the object's generation does not count, a jsonpath must name one plain value.
 */

export type WaitFor =
  | { kind: 'delete' }
  | { kind: 'create' }
  | { kind: 'condition'; name: string; value: string }
  | { kind: 'jsonpath'; path: Step[]; value?: string };

/** One step of the JSONPath subset kubectl users write: `.field`, `[n]`, `[*]`, `[?(@.a.b=="x")]`. */
export type Step = { field: string } | { index: number } | { all: true } | { filter: string[]; equals: string };

/** Splits on single `=`; `==` stays inside a part (kubectl's splitJSONPathInput). */
export function splitJsonPathInput(input: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < input.length; i++) {
    if (input[i] === '=') {
      if (input[i + 1] === '=') {
        cur += '==';
        i++;
        continue;
      }
      out.push(cur);
      cur = '';
      continue;
    }
    cur += input[i];
  }
  out.push(cur);
  return out;
}

/** Parses a jsonpath template such as `{.status.phase}` or `.status.conditions[?(@.type=="Ready")].status`. */
export function parseJsonPath(expr: string): Step[] {
  let e = expr.trim();
  if (e.startsWith('{') && e.endsWith('}')) e = e.slice(1, -1);
  if (e.startsWith('$')) e = e.slice(1);
  if (!e.startsWith('.') && !e.startsWith('[')) e = '.' + e;
  const steps: Step[] = [];
  let i = 0;
  while (i < e.length) {
    if (e[i] === '.') {
      const m = /^\.([A-Za-z0-9_-]+)/.exec(e.slice(i));
      if (!m) throw new CliError(`unrecognized jsonpath expression "${expr}"`);
      steps.push({ field: m[1] });
      i += m[0].length;
    } else if (e[i] === '[') {
      const close = e.indexOf(']', i);
      if (close < 0) throw new CliError(`unclosed bracket in jsonpath expression "${expr}"`);
      const inner = e.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === '*') steps.push({ all: true });
      else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else {
        const f = /^\?\(@((?:\.[A-Za-z0-9_-]+)+)\s*==\s*(?:"([^"]*)"|'([^']*)'|([^)\s]+))\)$/.exec(inner);
        if (!f) throw new CliError(`unsupported jsonpath filter "[${inner}]" in "${expr}"`);
        steps.push({ filter: f[1].slice(1).split('.'), equals: f[2] ?? f[3] ?? f[4] ?? '' });
      }
    } else throw new CliError(`unrecognized jsonpath expression "${expr}"`);
  }
  return steps;
}

/** Every value the path reaches in `obj` (missing keys give nothing, as AllowMissingKeys). */
export function evalJsonPath(obj: unknown, steps: Step[]): unknown[] {
  let cur: unknown[] = [obj];
  for (const s of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if ('field' in s) {
        if (v && typeof v === 'object' && !Array.isArray(v) && s.field in (v as Record<string, unknown>)) next.push((v as Record<string, unknown>)[s.field]);
      } else if ('index' in s) {
        if (Array.isArray(v)) {
          const at = s.index < 0 ? v.length + s.index : s.index;
          if (at >= 0 && at < v.length) next.push(v[at]);
        }
      } else if ('all' in s) {
        if (Array.isArray(v)) next.push(...v);
        else if (v && typeof v === 'object') next.push(...Object.values(v));
      } else if (Array.isArray(v)) {
        for (const item of v) {
          let x: unknown = item;
          for (const f of s.filter) x = x && typeof x === 'object' ? (x as Record<string, unknown>)[f] : undefined;
          if (x !== undefined && String(x) === s.equals) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}

/** Parses `--for`. */
export function parseWaitFor(text: string | undefined): WaitFor {
  const t = text ?? '';
  const lower = t.toLowerCase();
  if (lower === 'delete') return { kind: 'delete' };
  if (lower === 'create') return { kind: 'create' };
  if (t.startsWith('condition=')) {
    const rest = t.slice('condition='.length);
    const eq = rest.indexOf('=');
    return eq < 0 ? { kind: 'condition', name: rest, value: 'true' } : { kind: 'condition', name: rest.slice(0, eq), value: rest.slice(eq + 1) };
  }
  if (t.startsWith('jsonpath=')) {
    const parts = splitJsonPathInput(t.slice('jsonpath='.length));
    if (parts.length < 1 || parts.length > 2) throw new CliError("jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or --for=jsonpath='{.status.readyReplicas}'");
    if (!parts[0].trim()) throw new CliError('jsonpath expression cannot be empty');
    const path = parseJsonPath(parts[0]);
    if (parts.length === 1) return { kind: 'jsonpath', path };
    const value = parts[1].replace(/^['"]+|['"]+$/g, '');
    if (!value) throw new CliError("jsonpath wait has to have a value after equal sign, like --for=jsonpath='{.status.readyReplicas}'=3");
    return { kind: 'jsonpath', path, value };
  }
  throw new CliError(`unrecognized condition: ${JSON.stringify(t)}`);
}

interface Obj {
  metadata?: { generation?: number };
  status?: { observedGeneration?: number; conditions?: { type?: string; status?: string; observedGeneration?: number }[] };
}

/**
 * Whether `obj` meets a condition or jsonpath wait; throws CliError for a jsonpath that reaches
 * several values or an object or list (kubectl's errors).
 */
export function conditionMet(obj: unknown, w: WaitFor): boolean {
  if (w.kind === 'condition') {
    const o = obj as Obj;
    for (const c of o.status?.conditions ?? []) {
      if ((c.type ?? '').toLowerCase() !== w.name.toLowerCase() || c.status === undefined) continue;
      const gen = o.metadata?.generation;
      if (gen !== undefined) {
        const observed = c.observedGeneration ?? o.status?.observedGeneration;
        if (observed !== undefined && observed < gen) return false;
      }
      return c.status.toLowerCase() === w.value.toLowerCase();
    }
    return false;
  }
  if (w.kind === 'jsonpath') {
    const found = evalJsonPath(obj, w.path);
    if (found.length === 0) return false;
    if (found.length > 1) throw new CliError('given jsonpath expression matches more than one value');
    if (w.value === undefined) return true;
    const v = found[0];
    if (v !== null && typeof v === 'object') throw new CliError('jsonpath leads to a nested object or list which is not supported');
    return String(v).trim() === w.value.trim();
  }
  return false;
}
