import type { ControllerRevision, ReplicaSet } from 'kubernetes-types/apps/v1';
import { ApiError, type KubeObject, type ObjectList } from '../../lib/client';
import { parseDuration } from '../../lib/duration';
import { ndjsonLines } from '../../lib/ndjson';
import { CONTROLLERREVISIONS, REPLICASETS, resourcePath } from '../../lib/resources';
import type { Ctx } from './context';
import { CliError } from './errors';
import { controllerRevisions, deploymentRevisions, deploymentUndoPatch, describePodTemplate, historyTable, jsonEqual, pickRevision, type Revision } from './rollout-history';
import { rolloutStatus } from './rollout-status';
import { objectName, readTargets, resourceString, targetPath, type Target } from './targets';

export interface RolloutFlags {
  selector?: string;
}

export interface StatusFlags extends RolloutFlags {
  watch?: boolean;
  timeout?: string;
  revision?: string;
}

const kindOf = (t: Target) => `${t.info.group}/${t.info.kind}`;

function selectorString(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',');
}

async function targets(ctx: Ctx, args: string[], flags: RolloutFlags): Promise<Target[]> {
  if (args.length === 0) throw new CliError('required resource not specified');
  // As kubectl: a type without names or selector means every object of that type.
  return readTargets(ctx, args, { selector: flags.selector, all: !flags.selector });
}

function noneFound(ctx: Ctx, list: Target[]): boolean {
  if (list.length > 0) return false;
  ctx.err(`No resources found in ${ctx.namespace} namespace.\n`);
  return true;
}

/**
 * `rollout status`: watches each object (list, then watch from the list's
 * resourceVersion, by metadata.name) and prints kubectl's status line at
 * every change until the rollout is done, fails, or --timeout passes.
 * `--watch=false` prints the current line once.
 */
export async function runRolloutStatus(ctx: Ctx, args: string[], flags: StatusFlags): Promise<number> {
  const revision = flags.revision === undefined ? 0 : Number(flags.revision);
  if (!Number.isInteger(revision) || revision < 0) throw new CliError(`revision must be a positive integer: ${flags.revision}`);
  const list = await targets(ctx, args, flags);
  if (noneFound(ctx, list)) return 0;
  const timeoutMs = flags.timeout ? parseDuration(flags.timeout) : 0;
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  for (const t of list) await watchStatus(ctx, t, revision, flags.watch !== false, deadline);
  return 0;
}

async function watchStatus(ctx: Ctx, t: Target, revision: number, watch: boolean, deadline: number): Promise<void> {
  const step = (obj: KubeObject): boolean => {
    const s = rolloutStatus(t.info.group, t.info.kind, obj, revision);
    if (s.error) throw new CliError(s.error);
    ctx.out(s.message);
    return s.done || !watch;
  };
  const fieldSelector = `metadata.name=${t.name}`;
  const path = resourcePath(t.info, { namespace: t.namespace });
  const listed = await ctx.client.request<ObjectList>('GET', path, { query: { fieldSelector } });
  const first = listed.items?.[0];
  if (!first) throw new CliError('object has been deleted');
  if (step(first)) return;
  let rv = listed.metadata?.resourceVersion;
  const abort = new AbortController();
  const timer = Number.isFinite(deadline) ? setTimeout(() => abort.abort(), Math.max(0, deadline - Date.now())) : undefined;
  try {
    for (;;) {
      let done = false;
      try {
        const res = await ctx.client.stream('GET', path, { query: { watch: 'true', fieldSelector, resourceVersion: rv, allowWatchBookmarks: 'true' }, signal: abort.signal });
        for await (const line of ndjsonLines(res)) {
          const ev = JSON.parse(line) as { type: string; object: KubeObject & { code?: number; message?: string } };
          if (ev.type === 'BOOKMARK') {
            rv = ev.object.metadata?.resourceVersion ?? rv;
            continue;
          }
          if (ev.type === 'DELETED') throw new CliError('object has been deleted');
          if (ev.type === 'ERROR') {
            if (ev.object.code === 410) rv = undefined;
            else throw new CliError(`internal error: unexpected event ${ev.object.message ?? ''}`);
            break;
          }
          rv = ev.object.metadata?.resourceVersion ?? rv;
          if (step(ev.object)) {
            done = true;
            break;
          }
        }
      } catch (err) {
        if (abort.signal.aborted) throw new CliError('timed out waiting for the condition');
        if (err instanceof ApiError && err.expired) rv = undefined;
        else throw err;
      }
      if (done) return;
      if (abort.signal.aborted) throw new CliError('timed out waiting for the condition');
      if (rv === undefined) {
        const again = await ctx.client.request<ObjectList>('GET', path, { query: { fieldSelector } });
        if (!again.items?.[0]) throw new CliError('object has been deleted');
        if (step(again.items[0])) return;
        rv = again.metadata?.resourceVersion;
      }
    }
  } finally {
    if (timer) clearTimeout(timer);
    abort.abort();
  }
}

/** The revisions of a Deployment (its ReplicaSets) or a StatefulSet/DaemonSet (its ControllerRevisions). */
async function revisionsOf(ctx: Ctx, t: Target): Promise<Map<number, Revision>> {
  const spec = (t.object as { spec?: { selector?: Parameters<typeof selectorString>[0] } }).spec;
  const query = { labelSelector: selectorString(spec?.selector) };
  switch (kindOf(t)) {
    case 'apps/Deployment': {
      const rs = await ctx.client.request<ObjectList<ReplicaSet & KubeObject>>('GET', resourcePath(REPLICASETS, { namespace: t.namespace }), { query });
      return deploymentRevisions(t.object.metadata?.uid, rs.items ?? []);
    }
    case 'apps/StatefulSet':
    case 'apps/DaemonSet': {
      const crs = await ctx.client.request<ObjectList<ControllerRevision & KubeObject>>('GET', resourcePath(CONTROLLERREVISIONS, { namespace: t.namespace }), { query });
      return controllerRevisions(t.object.metadata?.uid, crs.items ?? []);
    }
    default:
      throw new CliError(`no history viewer has been implemented for "${t.info.group ? `${t.info.kind}.${t.info.group}` : t.info.kind}"`);
  }
}

/** `rollout history`: the REVISION / CHANGE-CAUSE table, or one revision's pod template. */
export async function runRolloutHistory(ctx: Ctx, args: string[], flags: RolloutFlags & { revision?: string }): Promise<number> {
  const revision = flags.revision === undefined ? 0 : Number(flags.revision);
  if (!Number.isInteger(revision) || revision < 0) throw new CliError(`revision must be a positive integer: ${flags.revision}`);
  const list = await targets(ctx, args, flags);
  for (const t of list) {
    const revisions = await revisionsOf(ctx, t);
    if (revision > 0) {
      const r = revisions.get(revision);
      if (!r) throw new CliError('unable to find the specified revision');
      ctx.out(`${objectName(t)} with revision #${revision}\n${describePodTemplate(r.template)}\n`);
    } else {
      ctx.out(`${objectName(t)} \n${historyTable(revisions)}\n`);
    }
  }
  return 0;
}

/**
 * `rollout undo [--to-revision N]`: a Deployment gets its ReplicaSet's
 * template back (a JSON patch, as kubectl does); a StatefulSet or DaemonSet
 * gets its ControllerRevision's data as a strategic merge patch.
 */
export async function runRolloutUndo(ctx: Ctx, args: string[], flags: RolloutFlags & { toRevision?: string }): Promise<number> {
  const to = flags.toRevision === undefined ? 0 : Number(flags.toRevision);
  const list = await targets(ctx, args, flags);
  for (const t of list) {
    const kind = kindOf(t);
    if (!['apps/Deployment', 'apps/StatefulSet', 'apps/DaemonSet'].includes(kind)) throw new CliError(`no rollbacker has been implemented for "${t.info.group ? `${t.info.kind}.${t.info.group}` : t.info.kind}"`);
    const revisions = await revisionsOf(ctx, t);
    let target: Revision;
    try {
      target = pickRevision(revisions, to, kind === 'apps/Deployment' ? 'Deployment' : 'other', t.name);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    let result = 'rolled back';
    if (kind === 'apps/Deployment') {
      if ((t.object as { spec?: { paused?: boolean } }).spec?.paused) throw new CliError("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again");
      const patch = deploymentUndoPatch(t.object as Parameters<typeof deploymentUndoPatch>[0], target.source as ReplicaSet);
      if (!patch) result = `skipped rollback (current template already matches revision ${to})`;
      else await patchOrExplain(ctx, t, patch, 'application/json-patch+json', to);
    } else {
      const current = (t.object as { spec?: { template?: unknown } }).spec?.template;
      if (jsonEqual(current, target.template)) result = `skipped rollback (current template already matches revision ${to})`;
      else await patchOrExplain(ctx, t, (target.source as ControllerRevision).data, 'application/strategic-merge-patch+json', to);
    }
    ctx.out(`${objectName(t)} ${result}\n`);
  }
  return 0;
}

async function patchOrExplain(ctx: Ctx, t: Target, body: unknown, contentType: string, to: number): Promise<void> {
  try {
    await ctx.client.request('PATCH', targetPath(t), { body, contentType });
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(`failed restoring revision ${to}: ${err.message}`);
    throw err;
  }
}

/** Go's time.Now().Format(time.RFC3339): local time with its offset, `Z` for UTC. */
export function rfc3339(d: Date): string {
  const off = -d.getTimezoneOffset();
  const pad = (n: number) => String(Math.trunc(Math.abs(n))).padStart(2, '0');
  const local = new Date(d.getTime() + off * 60_000);
  const base = local.toISOString().slice(0, 19);
  return off === 0 ? `${base}Z` : `${base}${off > 0 ? '+' : '-'}${pad(off / 60)}:${pad(off % 60)}`;
}

type Change = { patch?: unknown; error?: string };

/** The patch `rollout restart|pause|resume` sends for one object, or kubectl's reason for refusing it. */
export function rolloutChange(verb: 'restart' | 'pause' | 'resume', t: { info: { group: string; kind: string }; object: KubeObject }, now: Date): Change {
  const kind = `${t.info.group}/${t.info.kind}`;
  const paused = !!(t.object as { spec?: { paused?: boolean } }).spec?.paused;
  if (verb === 'restart') {
    if (!['apps/Deployment', 'apps/StatefulSet', 'apps/DaemonSet'].includes(kind)) return { error: 'restarting is not supported' };
    if (kind === 'apps/Deployment' && paused) return { error: "can't restart paused deployment (run rollout resume first)" };
    return { patch: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': rfc3339(now) } } } } } };
  }
  if (kind !== 'apps/Deployment') return { error: verb === 'pause' ? 'pausing is not supported' : 'resuming is not supported' };
  if (verb === 'pause') return paused ? { error: 'is already paused' } : { patch: { spec: { paused: true } } };
  return paused ? { patch: { spec: { paused: null } } } : { error: 'is not paused' };
}

/** `rollout restart|pause|resume`: one strategic merge patch per object; per-object errors in kubectl's words. */
export async function runRolloutChange(ctx: Ctx, verb: 'restart' | 'pause' | 'resume', args: string[], flags: RolloutFlags): Promise<number> {
  const list = await targets(ctx, args, flags);
  if (noneFound(ctx, list)) return 0;
  const past = { restart: 'restarted', pause: 'paused', resume: 'resumed' }[verb];
  let exit = 0;
  for (const t of list) {
    const change = rolloutChange(verb, t, new Date());
    if (change.error) {
      ctx.err(`error: ${resourceString(t.info)} "${t.name}" ${change.error}\n`);
      exit = 1;
      continue;
    }
    try {
      await ctx.client.request('PATCH', targetPath(t), { body: change.patch, contentType: 'application/strategic-merge-patch+json', query: { fieldManager: 'kubectl-rollout' } });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      ctx.err(`error: failed to patch: ${err.message}\n`);
      exit = 1;
      continue;
    }
    ctx.out(`${objectName(t)} ${past}\n`);
  }
  return exit;
}
