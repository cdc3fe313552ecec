import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../../lib/client';
import { PODS, resourcePath } from '../../lib/resources';
import type { Ctx } from './context';
import { formatApiError } from './errors';
import { explainPending } from './explain-pending';

export interface WhyPendingFlags {
  all?: boolean;
  output?: string;
}

/**
 * `coxctl why-pending POD` (or pod/POD): reads the pod and prints, per node, the plugin and reason that
 * rejected it in the scheduler's last attempt (explain-pending.ts). Exit 0 when it could explain
 * (pending with a recorded attempt, or already bound/finished/deleting); 1 when the pod does not
 * exist or no attempt is recorded yet.
 */
export async function runWhyPending(ctx: Ctx, arg: string, flags: WhyPendingFlags): Promise<number> {
  if (flags.output !== undefined && flags.output !== 'wide') {
    ctx.err(`error: unable to match a printer suitable for the output format "${flags.output}", allowed formats are: wide\n`);
    return 1;
  }
  const name = arg.replace(/^(pods?|po)\//, '');
  let pod: Pod;
  try {
    pod = await ctx.client.request<Pod>('GET', resourcePath(PODS, { namespace: ctx.namespace, name }));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    ctx.err(formatApiError(err) + '\n');
    return 1;
  }
  const e = explainPending(pod, { all: flags.all, wide: flags.output === 'wide' });
  ctx.out(e.stdout);
  ctx.err(e.stderr);
  return e.code;
}
