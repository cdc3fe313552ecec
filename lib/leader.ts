/**
 * Leader election seam. Kubernetes runs one active controller-manager and
 * scheduler per cluster by holding a coordination.k8s.io Lease; Coxswain's
 * apiserver does not serve Leases yet, so the only implementation is
 * `AlwaysLeader` (every replica acts: run exactly one of each process).
 * A Lease-based elector implements this interface: `run` calls `onStarted`
 * once the lease is held and `onStopped` when it is lost (then the process
 * should exit, as client-go's leaderelection does).
 */
export interface LeaderElector {
  run(onStarted: () => Promise<void> | void, onStopped: () => void, signal: AbortSignal): Promise<void>;
}

export class AlwaysLeader implements LeaderElector {
  async run(onStarted: () => Promise<void> | void, _onStopped: () => void, _signal: AbortSignal): Promise<void> {
    await onStarted();
  }
}
