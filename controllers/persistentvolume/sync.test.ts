import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { syncClaim, syncVolume, type ClaimWorld } from './sync';

const claim = (name: string, o: { size?: string; modes?: string[]; cls?: string; volumeName?: string; phase?: string; ann?: Record<string, string>; selector?: LabelSelector; uid?: string } = {}): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'ns', uid: o.uid ?? `uid-${name}`, annotations: o.ann },
  spec: { accessModes: o.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: o.size ?? '1Gi' } }, storageClassName: o.cls, volumeName: o.volumeName, selector: o.selector },
  status: { phase: o.phase ?? 'Pending' },
});
const volume = (name: string, o: { size?: string; modes?: string[]; cls?: string; ref?: { name: string; uid?: string }; phase?: string; labels?: Record<string, string>; node?: string; policy?: string; ann?: Record<string, string> } = {}): PersistentVolume => ({
  metadata: { name, labels: o.labels, annotations: o.ann },
  spec: {
    capacity: { storage: o.size ?? '1Gi' }, accessModes: o.modes ?? ['ReadWriteOnce'], storageClassName: o.cls, hostPath: { path: `/data/${name}` },
    persistentVolumeReclaimPolicy: o.policy ?? 'Retain',
    claimRef: o.ref ? { namespace: 'ns', name: o.ref.name, uid: o.ref.uid } : undefined,
    nodeAffinity: o.node ? { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.node] }] }] } } : undefined,
  },
  status: { phase: o.phase ?? 'Available' },
});
const deleting = (pv: PersistentVolume): PersistentVolume => ({ ...pv, metadata: { ...pv.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
const node = (name: string): Node => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
const localPath: StorageClass = { metadata: { name: 'local-path' }, provisioner: 'coxswain.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer' };
const immediateLocal: StorageClass = { ...localPath, metadata: { name: 'now' }, volumeBindingMode: 'Immediate' };
const external: StorageClass = { metadata: { name: 'ebs' }, provisioner: 'ebs.csi.aws.com', volumeBindingMode: 'Immediate' };
const world = (volumes: PersistentVolume[] = [], more: Partial<ClaimWorld> = {}): ClaimWorld => ({ volumes, classes: [localPath, immediateLocal, external], nodes: [node('n1'), node('n2')], localPathDir: '/var/lib/st', ...more });

/** A one-line summary of a step, so the table reads as what happens. */
function summary(step: ReturnType<typeof syncClaim>): string {
  switch (step.kind) {
    case 'wait': return step.event ? `wait ${step.event.reason}: ${step.event.message}` : 'wait';
    case 'bindVolume': return `reserve ${step.volume.metadata?.name} for ${step.volume.spec?.claimRef?.name}/${step.volume.spec?.claimRef?.uid}`;
    case 'bindClaim': return `bind claim to ${step.claim.spec?.volumeName} ${step.claim.status?.phase} ${step.claim.status?.capacity?.storage}`;
    case 'provision': return `provision ${step.volume.metadata?.name} at ${step.volume.spec?.hostPath?.path} on ${step.volume.spec?.nodeAffinity?.required?.nodeSelectorTerms[0].matchExpressions?.[0].values} policy ${step.volume.spec?.persistentVolumeReclaimPolicy}`;
    case 'phase': return `phase ${step.phase} ${step.event.reason}`;
    case 'unselect': return `unselect (${Object.keys(step.claim.metadata?.annotations ?? {}).join(',')}) ${step.event.reason}: ${step.event.message}`;
  }
}

test('syncClaim: binding, provisioning and waiting, table', () => {
  const cases: [string, PersistentVolumeClaim, ClaimWorld, string][] = [
    ['smallest volume that fits wins', claim('c', { size: '2Gi' }), world([volume('big', { size: '10Gi' }), volume('small', { size: '1Gi' }), volume('fit', { size: '3Gi' })]), 'reserve fit for c/uid-c'],
    ['access modes must all be offered', claim('c', { modes: ['ReadWriteMany'] }), world([volume('rwo')]), 'wait FailedBinding: no persistent volumes available for this claim and no storage class is set'],
    ['class must match', claim('c', { cls: 'gold' }), world([volume('plain'), volume('gold', { cls: 'gold' })]), 'reserve gold for c/uid-c'],
    ['label selector', claim('c', { selector: { matchLabels: { tier: 'db' } } }), world([volume('a'), volume('b', { labels: { tier: 'db' } })]), 'reserve b for c/uid-c'],
    ['a volume reserved for another claim is not taken', claim('c'), world([volume('v', { ref: { name: 'other', uid: 'u' } })]), 'wait FailedBinding: no persistent volumes available for this claim and no storage class is set'],
    ['a released volume is not taken', claim('c'), world([volume('v', { phase: 'Released' })]), 'wait FailedBinding: no persistent volumes available for this claim and no storage class is set'],
    ['volume reserved for this claim: bind the claim', claim('c'), world([volume('v', { ref: { name: 'c', uid: 'uid-c' }, size: '5Gi' })]), 'bind claim to v Bound 5Gi'],
    ['pre-bound volume (claimRef without uid) wins over a smaller one', claim('c', { size: '1Gi' }), world([volume('small'), volume('pre', { ref: { name: 'c' }, size: '9Gi' })]), 'reserve pre for c/uid-c'],
    ['claim pre-bound by volumeName to an unclaimed volume', claim('c', { volumeName: 'v' }), world([volume('v'), volume('w')]), 'reserve v for c/uid-c'],
    ['claim pre-bound to a volume too small', claim('c', { volumeName: 'v', size: '5Gi' }), world([volume('v')]), 'wait FailedBinding: Cannot bind to requested volume "v": capacity 1Gi is less than the requested 5Gi'],
    ['claim pre-bound to a volume of another claim', claim('c', { volumeName: 'v' }), world([volume('v', { ref: { name: 'x', uid: 'ux' } })]), 'wait FailedBinding: volume "v" already bound to a different claim.'],
    ['bound claim whose volume is gone is Lost', claim('c', { volumeName: 'v', phase: 'Bound' }), world([]), 'phase Lost ClaimLost'],
    ['unknown class: a clear event', claim('c', { cls: 'nope' }), world(), 'wait ProvisioningFailed: storageclass.storage.k8s.io "nope" not found'],
    ['WaitForFirstConsumer without a node: waits', claim('c', { cls: 'local-path' }), world([volume('lp', { cls: 'local-path' })]), 'wait WaitForFirstConsumer: waiting for first consumer to be created before binding'],
    ['node selected: provision there', claim('c', { cls: 'local-path', ann: { 'volume.kubernetes.io/selected-node': 'n2' } }), world(), 'provision pvc-uid-c at /var/lib/st/pvc-uid-c on n2 policy Delete'],
    ['node selected: a static volume of the class on that node is used first', claim('c', { cls: 'local-path', ann: { 'volume.kubernetes.io/selected-node': 'n2' } }),
      world([volume('on-n1', { cls: 'local-path', node: 'n1' }), volume('on-n2', { cls: 'local-path', node: 'n2' })]), 'reserve on-n2 for c/uid-c'],
    ['selected node gone', claim('c', { cls: 'local-path', ann: { 'volume.kubernetes.io/selected-node': 'n9' } }), world(), 'unselect () ProvisioningFailed: the selected node "n9" does not exist; the claim goes back to the scheduler'],
    ['local-path refuses ReadWriteMany', claim('c', { cls: 'local-path', modes: ['ReadWriteMany'], ann: { 'volume.kubernetes.io/selected-node': 'n1' } }), world(),
      'wait ProvisioningFailed: storage class "local-path": the coxswain.io/local-path provisioner makes node-local volumes, which support only ReadWriteOnce and ReadWriteOncePod, not ReadWriteMany'],
    ['local-path with Immediate binding cannot pick a node', claim('c', { cls: 'now' }), world(),
      'wait ProvisioningFailed: storage class "now" uses the coxswain.io/local-path provisioner, which needs volumeBindingMode WaitForFirstConsumer: the volume lives on the node its first pod is scheduled to'],
    ['external provisioner: says who it waits for', claim('c', { cls: 'ebs' }), world(),
      'wait ExternalProvisioning: Waiting for a volume to be created either by the external provisioner "ebs.csi.aws.com" or manually by the system administrator. Coxswain runs no provisioner of that name.'],
    ['bound and complete: nothing to do', { ...claim('c', { volumeName: 'v', phase: 'Bound', ann: { 'pv.kubernetes.io/bind-completed': 'yes' } }), status: { phase: 'Bound', capacity: { storage: '1Gi' } } },
      world([volume('v', { ref: { name: 'c', uid: 'uid-c' } })]), 'wait'],
  ];
  for (const [name, c, w, want] of cases) assert.equal(summary(syncClaim(c, w)), want, name);
});

test('syncClaim: the provisioned volume is pre-bound to the claim and pinned to the node', () => {
  const step = syncClaim(claim('c', { cls: 'local-path', size: '64Mi', ann: { 'volume.kubernetes.io/selected-node': 'n1' } }), world());
  assert.equal(step.kind, 'provision');
  if (step.kind !== 'provision') return;
  assert.deepEqual(step.volume.spec?.claimRef, { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'ns', name: 'c', uid: 'uid-c', resourceVersion: undefined });
  assert.deepEqual(step.volume.spec?.capacity, { storage: '64Mi' });
  assert.equal(step.volume.spec?.storageClassName, 'local-path');
  assert.equal(step.volume.spec?.hostPath?.type, 'DirectoryOrCreate');
  assert.equal(step.volume.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'], 'coxswain.io/local-path');
  assert.equal(step.annotations['volume.kubernetes.io/storage-provisioner'], 'coxswain.io/local-path');
});

test('syncVolume: phases and reclaim policies, table', () => {
  const bound = claim('c', { volumeName: 'v', phase: 'Bound' });
  const cases: [string, PersistentVolume, PersistentVolumeClaim | undefined, string][] = [
    ['new volume without a claim: Available', volume('v', { phase: 'Pending' }), undefined, 'phase Available'],
    ['pre-bound by an admin (no uid yet): Available', volume('v', { phase: 'Pending', ref: { name: 'c' } }), undefined, 'phase Available'],
    ['claim bound to it: Bound', volume('v', { ref: { name: 'c', uid: 'uid-c' } }), bound, 'phase Bound'],
    ['already Bound: nothing', volume('v', { phase: 'Bound', ref: { name: 'c', uid: 'uid-c' } }), bound, 'none'],
    ['reserved, claim not written yet: the claim sync finishes', volume('v', { ref: { name: 'c', uid: 'uid-c' } }), claim('c'), 'none'],
    ['reserved by the controller, claim bound elsewhere: unbind', volume('v', { ref: { name: 'c', uid: 'uid-c' }, ann: { 'pv.kubernetes.io/bound-by-controller': 'yes' } }), claim('c', { volumeName: 'w' }), 'unbind'],
    ['claim deleted: Released', volume('v', { phase: 'Bound', ref: { name: 'c', uid: 'uid-c' } }), undefined, 'phase Released'],
    ['claim replaced by a new one of the same name: Released', volume('v', { phase: 'Bound', ref: { name: 'c', uid: 'uid-c' } }), claim('c', { uid: 'new' }), 'phase Released'],
    ['Released, Retain: stays', volume('v', { phase: 'Released', ref: { name: 'c', uid: 'uid-c' } }), undefined, 'none'],
    ['Released, Delete, made by local-path: delete', volume('v', { phase: 'Released', ref: { name: 'c', uid: 'uid-c' }, policy: 'Delete', ann: { 'pv.kubernetes.io/provisioned-by': 'coxswain.io/local-path' } }), undefined, 'delete'],
    ['Released, Delete, static: Failed', volume('v', { phase: 'Released', ref: { name: 'c', uid: 'uid-c' }, policy: 'Delete' }), undefined, 'phase Failed VolumeFailedDelete'],
    ['Released, Recycle: Failed (refused)', volume('v', { phase: 'Released', ref: { name: 'c', uid: 'uid-c' }, policy: 'Recycle' }), undefined, 'phase Failed VolumeFailedRecycle'],
    ['Failed: left for the admin', volume('v', { phase: 'Failed', ref: { name: 'c', uid: 'uid-c' }, policy: 'Delete' }), undefined, 'none'],
    ['admin cleared the claimRef of a Released volume: Available again', volume('v', { phase: 'Released' }), undefined, 'phase Available'],
    ['being deleted, claim still there: nothing (pv-protection holds it)', deleting(volume('v', { phase: 'Bound', ref: { name: 'c', uid: 'uid-c' } })), bound, 'none'],
    ['being deleted, claim gone: Released, so pv-protection lets it go', deleting(volume('v', { phase: 'Bound', ref: { name: 'c', uid: 'uid-c' } })), undefined, 'phase Released'],
    ['being deleted, Released, Delete: never reclaimed twice', deleting(volume('v', { phase: 'Released', ref: { name: 'c', uid: 'uid-c' }, policy: 'Delete', ann: { 'pv.kubernetes.io/provisioned-by': 'coxswain.io/local-path' } })), undefined, 'none'],
    ['being deleted, Available: nothing', deleting(volume('v')), undefined, 'none'],
  ];
  for (const [name, pv, c, want] of cases) {
    const s = syncVolume(pv, c);
    assert.equal(s.kind === 'phase' ? `phase ${s.phase}${s.reason ? ` ${s.reason}` : ''}` : s.kind, want, name);
  }
});
