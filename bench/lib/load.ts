/** What one load run measured: successful ops with their latencies, errors, wall time. */
export interface LoadResult {
  ops: number;
  errors: number;
  firstError?: string;
  seconds: number;
  latenciesMs: number[];
  /** Scenario-specific extras (e.g. txn conflicts, missing watch events, list sizes). */
  extra?: Record<string, number>;
}

/**
 * Closed-loop load: `clients` workers, each issuing one op at a time, until
 * `maxOps` ops were issued or `maxMs` passed. Latency is recorded per successful op;
 * a failed op counts as an error (the first one's message is kept).
 */
export async function closedLoop(clients: number, maxOps: number, maxMs: number, op: (client: number, seq: number) => Promise<unknown>): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + maxMs;
  const worker = async (client: number) => {
    while (issued < maxOps && performance.now() < deadline) {
      const seq = issued++;
      const s = performance.now();
      try {
        await op(client, seq);
        latenciesMs.push(performance.now() - s);
      } catch (err) {
        errors++;
        firstError ??= String((err as { details?: string })?.details ?? (err as Error)?.message ?? err);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => worker(i)));
  return { ops: latenciesMs.length, errors, firstError, seconds: (performance.now() - t0) / 1000, latenciesMs };
}
