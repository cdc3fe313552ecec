import type { DaemonSet, Deployment, StatefulSet } from 'kubernetes-types/apps/v1';

/**
 * What `rollout status` says about one state of a workload, as kubectl's
 * status viewers word it: the line to print, whether the rollout is done, or
 * an error that ends the wait.
 */
export interface RolloutStatus {
  message: string;
  done: boolean;
  error?: string;
}

const REVISION = 'deployment.kubernetes.io/revision';

function deploymentStatus(d: Deployment, revision: number): RolloutStatus {
  const name = d.metadata?.name ?? '';
  if (revision > 0) {
    const current = Number(d.metadata?.annotations?.[REVISION] ?? 0);
    if (current !== revision) return { message: '', done: false, error: `desired revision (${revision}) is different from the running revision (${current})` };
  }
  const s = d.status ?? {};
  if ((d.metadata?.generation ?? 0) <= (s.observedGeneration ?? 0)) {
    const progressing = s.conditions?.find((c) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded') return { message: '', done: false, error: `deployment "${name}" exceeded its progress deadline` };
    const want = d.spec?.replicas;
    const updated = s.updatedReplicas ?? 0;
    if (want !== undefined && updated < want) return { message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...\n`, done: false };
    if ((s.replicas ?? 0) > updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${(s.replicas ?? 0) - updated} old replicas are pending termination...\n`, done: false };
    if ((s.availableReplicas ?? 0) < updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${s.availableReplicas ?? 0} of ${updated} updated replicas are available...\n`, done: false };
    return { message: `deployment "${name}" successfully rolled out\n`, done: true };
  }
  return { message: 'Waiting for deployment spec update to be observed...\n', done: false };
}

function daemonSetStatus(ds: DaemonSet): RolloutStatus {
  const name = ds.metadata?.name ?? '';
  if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return { message: '', done: true, error: 'rollout status is only available for RollingUpdate strategy type' };
  const s = ds.status ?? { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
  if ((ds.metadata?.generation ?? 0) <= (s.observedGeneration ?? 0)) {
    const updated = s.updatedNumberScheduled ?? 0;
    const desired = s.desiredNumberScheduled ?? 0;
    if (updated < desired) return { message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...\n`, done: false };
    if ((s.numberAvailable ?? 0) < desired) return { message: `Waiting for daemon set "${name}" rollout to finish: ${s.numberAvailable ?? 0} of ${desired} updated pods are available...\n`, done: false };
    return { message: `daemon set "${name}" successfully rolled out\n`, done: true };
  }
  return { message: 'Waiting for daemon set spec update to be observed...\n', done: false };
}

function statefulSetStatus(sts: StatefulSet): RolloutStatus {
  const strategy = sts.spec?.updateStrategy;
  if ((strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return { message: '', done: true, error: 'rollout status is only available for RollingUpdate strategy type' };
  const s = sts.status ?? { replicas: 0 };
  if (!s.observedGeneration || (sts.metadata?.generation ?? 0) > s.observedGeneration) return { message: 'Waiting for statefulset spec update to be observed...\n', done: false };
  const want = sts.spec?.replicas;
  if (want !== undefined && (s.readyReplicas ?? 0) < want) return { message: `Waiting for ${want - (s.readyReplicas ?? 0)} pods to be ready...\n`, done: false };
  if (strategy?.rollingUpdate) {
    const partition = strategy.rollingUpdate.partition;
    if (want !== undefined && partition !== undefined && (s.updatedReplicas ?? 0) < want - partition) {
      return { message: `Waiting for partitioned roll out to finish: ${s.updatedReplicas ?? 0} out of ${want - partition} new pods have been updated...\n`, done: false };
    }
    return { message: `partitioned roll out complete: ${s.updatedReplicas ?? 0} new pods have been updated...\n`, done: true };
  }
  if (s.updateRevision !== s.currentRevision) {
    return { message: `waiting for statefulset rolling update to complete ${s.updatedReplicas ?? 0} pods at revision ${s.updateRevision ?? ''}...\n`, done: false };
  }
  return { message: `statefulset rolling update complete ${s.currentReplicas ?? 0} pods at revision ${s.currentRevision ?? ''}...\n`, done: true };
}

/** `Kind.group` (`Pod` for the core group), as Go prints a GroupKind. */
export function groupKindString(group: string, kind: string): string {
  return group ? `${kind}.${group}` : kind;
}

/**
 * kubectl's status viewer for a kind: Deployment, DaemonSet and StatefulSet
 * (apps); `revision` > 0 pins a Deployment's revision.
 */
export function rolloutStatus(group: string, kind: string, obj: unknown, revision = 0): RolloutStatus {
  switch (`${group}/${kind}`) {
    case 'apps/Deployment':
      return deploymentStatus(obj as Deployment, revision);
    case 'apps/DaemonSet':
      return daemonSetStatus(obj as DaemonSet);
    case 'apps/StatefulSet':
      return statefulSetStatus(obj as StatefulSet);
    default:
      return { message: '', done: true, error: `no status viewer has been implemented for ${groupKindString(group, kind)}` };
  }
}
