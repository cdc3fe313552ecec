import { ApiError } from '../../lib/client';
import { parseDuration } from '../../lib/duration';
import type { Ctx } from './context';
import { CliError } from './errors';
import { objectName, readTargets, targetPath, type Target } from './targets';

export interface ScaleFlags {
  replicas?: string;
  currentReplicas?: string;
  resourceVersion?: string;
  selector?: string;
  all?: boolean;
  timeout?: string;
}

interface Scale {
  metadata?: { resourceVersion?: string };
  spec?: { replicas?: number };
  status?: { replicas?: number };
}

/** Checks scale's flags as kubectl does; returns the wanted and the expected current replica counts (-1: any). */
export function scaleArgs(flags: ScaleFlags): { replicas: number; current: number } {
  if (flags.replicas === undefined) throw new CliError('required flag(s) "replicas" not set');
  const replicas = Number(flags.replicas);
  const current = flags.currentReplicas === undefined ? -1 : Number(flags.currentReplicas);
  if (!Number.isInteger(replicas) || replicas < 0) throw new CliError('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
  if (!Number.isInteger(current) || current < -1) throw new CliError('The --current-replicas must specify an integer of -1 or greater');
  return { replicas, current };
}

/** kubectl's precondition failure, or undefined when the Scale meets the preconditions. */
export function preconditionError(scale: Scale, current: number, resourceVersion?: string): string | undefined {
  const have = scale.spec?.replicas ?? 0;
  if (current !== -1 && have !== current) return `Expected replicas to be ${current}, was ${have}`;
  if (resourceVersion && scale.metadata?.resourceVersion !== resourceVersion) return `Expected resource version to be ${resourceVersion}, was ${scale.metadata?.resourceVersion ?? ''}`;
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One object through its `/scale` subresource: with preconditions a read, a
 * check and a PUT (a conflict is retried); without, a merge patch of
 * spec.replicas.
 */
async function scaleOne(ctx: Ctx, t: Target, replicas: number, current: number, resourceVersion?: string): Promise<void> {
  const path = targetPath(t, 'scale');
  if (current === -1 && !resourceVersion) {
    await ctx.client.request('PATCH', path, { body: { spec: { replicas } }, contentType: 'application/merge-patch+json' });
    return;
  }
  for (let attempt = 0; ; attempt++) {
    const scale = await ctx.client.request<Scale>('GET', path);
    const failed = preconditionError(scale, current, resourceVersion);
    if (failed) throw new CliError(failed);
    try {
      await ctx.client.request('PUT', path, { body: { ...scale, spec: { ...scale.spec, replicas } } });
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.conflict) || attempt >= 5) throw err;
      await sleep(200);
    }
  }
}

/** Polls the Scale until status.replicas reaches the wanted count, as `kubectl scale --timeout` does. */
async function waitForReplicas(ctx: Ctx, t: Target, replicas: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await ctx.client.request<Scale>('GET', targetPath(t, 'scale'));
    if (s.spec?.replicas !== replicas || s.status?.replicas === replicas) return;
    if (Date.now() > deadline) throw new CliError(`timed out waiting for "${t.name}" to be synced`);
    await sleep(Math.min(1_000, Math.max(50, deadline - Date.now())));
  }
}

/** `coxctl scale TYPE/NAME --replicas N [--current-replicas M]`. */
export async function runScale(ctx: Ctx, args: string[], flags: ScaleFlags): Promise<number> {
  const { replicas, current } = scaleArgs(flags);
  const targets = await readTargets(ctx, args, { selector: flags.selector, all: flags.all });
  if (flags.resourceVersion && targets.length > 1) throw new CliError('cannot use --resource-version with multiple resources');
  if (targets.length === 0) throw new CliError('no objects passed to scale');
  const timeoutMs = flags.timeout ? parseDuration(flags.timeout) : 0;
  for (const t of targets) {
    await scaleOne(ctx, t, replicas, current, flags.resourceVersion);
    if (timeoutMs > 0) await waitForReplicas(ctx, t, replicas, timeoutMs);
    ctx.out(`${objectName(t)} scaled\n`);
  }
  return 0;
}
