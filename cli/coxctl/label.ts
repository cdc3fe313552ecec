import { ApiError } from '../../lib/client';
import type { Ctx } from './context';
import { CliError, formatApiError } from './errors';
import { objectName, readTargets, targetPath } from './targets';

export interface LabelFlags {
  overwrite?: boolean;
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  list?: boolean;
  resourceVersion?: string;
  dryRun?: string;
}

export type PairKind = 'label' | 'annotation';

/** Splits `TYPE NAME k=v k2-` into resource arguments and pair arguments, refusing resources after pairs. */
export function splitResourcesAndPairs(args: string[], kind: PairKind): { resources: string[]; pairs: string[] } {
  const resources: string[] = [];
  const pairs: string[] = [];
  for (const a of args) {
    const isPair = (a.includes('=') && a[0] !== '=') || (a.endsWith('-') && a !== '-');
    if (isPair) pairs.push(a);
    else if (pairs.length > 0) throw new CliError(`all resources must be specified before ${kind} changes: ${a}`);
    else resources.push(a);
  }
  return { resources, pairs };
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The changes a command line asks for: keys to set and keys to remove, with kubectl's errors for bad pairs. */
export function parsePairs(pairs: string[], kind: PairKind): { set: Map<string, string>; remove: string[] } {
  const set = new Map<string, string>();
  const remove: string[] = [];
  const invalid: string[] = [];
  for (const p of pairs) {
    if (p.includes('=') && p[0] !== '=') {
      if (kind === 'label') {
        const parts = p.split('=');
        if (parts.length !== 2) throw new CliError(`invalid label spec: ${p}`);
        const value = parts[1];
        if (value.length > 63) throw new CliError(`invalid label value: ${JSON.stringify(p)}: must be no more than 63 characters`);
        if (!LABEL_VALUE.test(value)) {
          throw new CliError(
            `invalid label value: ${JSON.stringify(p)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
          );
        }
        set.set(parts[0], value);
      } else {
        const i = p.indexOf('=');
        set.set(p.slice(0, i), p.slice(i + 1));
      }
    } else if (p.endsWith('-') && p !== '-') {
      remove.push(p.slice(0, -1));
    } else if (kind === 'label') {
      throw new CliError(`unknown label spec: ${p}`);
    } else {
      invalid.push(p);
    }
  }
  if (invalid.length) throw new CliError(`invalid annotation format: ${invalid.join(', ')}`);
  const both = remove.filter((k) => set.has(k));
  if (both.length) {
    throw new CliError(kind === 'label' ? 'can not both modify and remove a label in the same command' : `can not both modify and remove the following annotation(s) in the same command: ${both.join(', ')}`);
  }
  return { set, remove };
}

export interface PairUpdate {
  /** The merge patch to send (`metadata.labels` or `metadata.annotations`), or undefined when nothing changes. */
  patch?: Record<string, unknown>;
  /** kubectl's word for what happened: labeled, unlabeled, modified, not labeled; annotated. */
  outcome: string;
  /** Keys asked to be removed that the object does not have (label prints `label "x" not found.`). */
  missing: string[];
}

/**
 * The change to one object's labels or annotations. Without `overwrite`, a key
 * that already has a different value is an error in kubectl's words
 * (annotations list every such key; `kubernetes.io/change-cause` may always change).
 */
export function pairUpdate(kind: PairKind, current: Record<string, string> | undefined, set: Map<string, string>, remove: string[], overwrite: boolean): PairUpdate {
  const have = current ?? {};
  if (!overwrite) {
    const clashes = [...set].filter(([k, v]) => k in have && have[k] !== v && !(kind === 'annotation' && k === 'kubernetes.io/change-cause'));
    if (clashes.length && kind === 'label') {
      const msgs = clashes.map(([k]) => `'${k}' already has a value (${have[k]}), and --overwrite is false`);
      throw new CliError(msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`);
    }
    if (clashes.length) throw new CliError(`--overwrite is false but found the following declared annotation(s): ${clashes.map(([k]) => `'${k}' already has a value (${have[k]})`).join('; ')}`);
  }
  const changes: Record<string, string | null> = {};
  let added = 0;
  let removed = 0;
  for (const [k, v] of set) {
    if (have[k] !== v) {
      changes[k] = v;
      added++;
    }
  }
  const missing: string[] = [];
  for (const k of remove) {
    if (k in have) {
      changes[k] = null;
      removed++;
    } else missing.push(k);
  }
  const field = kind === 'label' ? 'labels' : 'annotations';
  const patch = added + removed > 0 ? { metadata: { [field]: changes } } : undefined;
  if (kind === 'annotation') return { patch, outcome: 'annotated', missing };
  const outcome = added && removed ? 'modified' : added ? 'labeled' : removed ? 'unlabeled' : 'not labeled';
  return { patch, outcome, missing };
}

/** `coxctl label|annotate TYPE NAME k=v k2-`: one merge patch per object, kubectl's messages. */
export async function runLabel(ctx: Ctx, kind: PairKind, args: string[], flags: LabelFlags): Promise<number> {
  const { resources, pairs } = splitResourcesAndPairs(args, kind);
  const { set, remove } = parsePairs(pairs, kind);
  if (flags.all && flags.selector) throw new CliError('cannot set --all and --selector at the same time');
  if (resources.length === 0) throw new CliError('one or more resources must be specified as <resource> <name> or <resource>/<name>');
  if (set.size === 0 && remove.length === 0 && !flags.list) throw new CliError(`at least one ${kind} update is required`);
  const targets = await readTargets(ctx, resources, { selector: flags.selector, all: flags.all, allNamespaces: flags.allNamespaces });
  if (flags.resourceVersion && targets.length !== 1) throw new CliError('--resource-version may only be used with a single resource');
  const field = kind === 'label' ? 'labels' : 'annotations';
  let exit = 0;
  for (const t of targets) {
    const current = t.object.metadata?.[field] as Record<string, string> | undefined;
    if (flags.list) {
      for (const [k, v] of Object.entries(current ?? {})) ctx.out(`${targets.length === 1 ? '' : ' '}${k}=${v}\n`);
      continue;
    }
    const update = pairUpdate(kind, current, set, remove, !!flags.overwrite);
    if (kind === 'label') for (const k of update.missing) ctx.out(`label ${JSON.stringify(k)} not found.\n`);
    if (update.patch || kind === 'annotation') {
      const body = flags.resourceVersion ? { ...update.patch, metadata: { ...(update.patch?.metadata as object), resourceVersion: flags.resourceVersion } } : (update.patch ?? {});
      try {
        await ctx.client.request('PATCH', targetPath(t), {
          body,
          contentType: 'application/merge-patch+json',
          query: { fieldManager: `kubectl-${kind === 'label' ? 'label' : 'annotate'}`, dryRun: flags.dryRun === 'server' ? 'All' : undefined },
        });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        ctx.err(formatApiError(err) + '\n');
        exit = 1;
        continue;
      }
    }
    ctx.out(`${objectName(t)} ${update.outcome}${flags.dryRun === 'server' ? ' (server dry run)' : ''}\n`);
  }
  return exit;
}
