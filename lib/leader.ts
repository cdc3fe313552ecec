/**
 * Leader election seam. Kubernetes runs one active controller-manager and
 * scheduler per cluster by holding a coordination.k8s.io Lease; the
 * implementations are `LeaseElector` (lib/leader-election.ts, `--leader-elect`)
 * and `AlwaysLeader` (every replica acts: run exactly one of each process).
 *
 * Contract of `run`: calls `onStarted` once this process leads (without
 * awaiting it), calls `onStopped` if leadership is lost (the process should
 * then exit, as client-go's leaderelection users do), and resolves once
 * `signal` aborted and a held lease was released, or after `onStopped`.
 */
export interface LeaderElector {
  run(onStarted: () => void, onStopped: () => void, signal: AbortSignal): Promise<void>;
}

export class AlwaysLeader implements LeaderElector {
  async run(onStarted: () => void, _onStopped: () => void, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    onStarted();
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
}
