import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError, type KubeObject } from '../lib/client';
import { PODS } from '../lib/resources';
import type { ControllerContext } from './context';
import type { Expectations } from './expectations';
import { slowStartBatch } from './util/batch';

/**
 * Creates a controller's pods the way client-go's controllers do: every name is
 * expected before any call (so a watch event that beats the response is not
 * missed), calls go in slow-start batches, each create gets a SuccessfulCreate or
 * FailedCreate event on `owner`, a create that fails releases its name, and so do
 * names never attempted. With `rename`, a name already taken (409) is replaced
 * and tried again, up to three times. Returns the errors (the first batch that
 * failed stops the rest).
 */
export async function createPodsExpected(o: {
  ctx: ControllerContext;
  expectations: Expectations;
  key: string;
  owner: KubeObject;
  namespace?: string;
  names: string[];
  build: (i: number, name: string) => Pod;
  rename?: () => string;
}): Promise<unknown[]> {
  const { ctx, expectations, key, owner, names } = o;
  expectations.expectCreations(key, names);
  const { successes, errors } = await slowStartBatch(names.length, 1, async (i) => {
    let name = names[i];
    for (let attempt = 0; ; attempt++) {
      try {
        await ctx.client.create(PODS, o.build(i, name) as KubeObject, o.namespace);
        ctx.recorder.event(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`);
        return;
      } catch (err) {
        expectations.creationObserved(key, name);
        if (o.rename && err instanceof ApiError && err.code === 409 && attempt < 3) {
          name = o.rename();
          expectations.expectCreations(key, [name]);
          continue;
        }
        ctx.recorder.event(owner, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
        throw err;
      }
    }
  });
  for (let i = successes + errors.length; i < names.length; i++) expectations.creationObserved(key, names[i]);
  return errors;
}
