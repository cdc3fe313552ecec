/**
 * Runs `fn` `count` times in batches that start at `initial` and double while
 * every call in a batch succeeds (Kubernetes' slowStartBatch), so a systematic
 * failure (quota, a bad template) costs one call, not hundreds. Stops at the
 * first failing batch. Returns the number of successful calls and the errors.
 */
export async function slowStartBatch(count: number, initial: number, fn: (i: number) => Promise<void>, maxBatch = 100): Promise<{ successes: number; errors: unknown[] }> {
  let remaining = count;
  let successes = 0;
  let batch = Math.min(remaining, initial);
  let index = 0;
  while (batch > 0) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn(index++)));
    const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    successes += batch - errors.length;
    if (errors.length > 0) return { successes, errors };
    remaining -= batch;
    batch = Math.min(remaining, batch * 2, maxBatch);
  }
  return { successes, errors: [] };
}

/** Runs `fn` over `items` with at most `limit` in flight; collects the errors. */
export async function parallelLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return errors;
}
