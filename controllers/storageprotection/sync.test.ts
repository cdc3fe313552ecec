import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import { claimsOf, syncClaim, syncVolume, type ProtectionStep } from './sync';

const PVC_F = 'kubernetes.io/pvc-protection';
const PV_F = 'kubernetes.io/pv-protection';
const DELETED = '2026-01-01T00:00:00Z';

const claim = (o: { deleting?: boolean; finalizers?: string[] } = {}): PersistentVolumeClaim => ({
  metadata: { name: 'data', namespace: 'ns', deletionTimestamp: o.deleting ? DELETED : undefined, finalizers: o.finalizers ?? [PVC_F] },
});
const pod = (o: { ns?: string; node?: string; phase?: string; claim?: string; shutDown?: boolean; terminating?: boolean } = {}): Pod => ({
  metadata: {
    name: 'p', namespace: o.ns ?? 'ns',
    deletionTimestamp: o.shutDown || o.terminating ? DELETED : undefined, deletionGracePeriodSeconds: o.shutDown ? 0 : o.terminating ? 30 : undefined,
  },
  spec: { nodeName: o.node ?? 'n1', containers: [], volumes: [{ name: 'v', persistentVolumeClaim: { claimName: o.claim ?? 'data' } }, { name: 'e', emptyDir: {} }] },
  status: { phase: o.phase ?? 'Running' },
});
const volume = (phase: string, o: { deleting?: boolean; finalizers?: string[] } = {}): PersistentVolume => ({
  metadata: { name: 'pv', deletionTimestamp: o.deleting ?? true ? DELETED : undefined, finalizers: o.finalizers ?? ['other', PV_F] },
  status: { phase },
});
const show = (s: ProtectionStep) => (s.kind === 'release' ? `release [${s.finalizers.join(',')}]` : s.kind === 'inUse' && s.by ? `inUse by ${s.by}` : s.kind);

test('pvc-protection: a deleted claim keeps its finalizer while a scheduled, unfinished pod of its namespace uses it; table', () => {
  const cases: [string, PersistentVolumeClaim, Pod[], string][] = [
    ['not being deleted', claim(), [], 'none'],
    ['being deleted, not our finalizer', claim({ deleting: true, finalizers: ['other'] }), [], 'none'],
    ['being deleted, no pods', claim({ deleting: true, finalizers: ['a', PVC_F] }), [], 'release [a]'],
    ['a running pod uses it', claim({ deleting: true }), [pod()], 'inUse by p'],
    ['a pod terminating gracefully still uses it', claim({ deleting: true }), [pod({ terminating: true })], 'inUse by p'],
    ['a pod shut down (deletion grace 0) does not', claim({ deleting: true }), [pod({ shutDown: true })], 'release []'],
    ['a Succeeded pod does not', claim({ deleting: true }), [pod({ phase: 'Succeeded' })], 'release []'],
    ['a Failed pod does not', claim({ deleting: true }), [pod({ phase: 'Failed' })], 'release []'],
    ['an unscheduled pod does not (the kubelet never starts it)', claim({ deleting: true }), [pod({ node: '' })], 'release []'],
    ['a pod of another namespace with a claim of that name does not', claim({ deleting: true }), [pod({ ns: 'other' })], 'release []'],
    ['a pod using another claim does not', claim({ deleting: true }), [pod({ claim: 'logs' })], 'release []'],
  ];
  for (const [name, c, pods, want] of cases) assert.equal(show(syncClaim(c, pods)), want, name);
});

test('pv-protection: a deleted volume keeps its finalizer while Bound; table', () => {
  const cases: [string, PersistentVolume, string][] = [
    ['not being deleted', volume('Bound', { deleting: false }), 'none'],
    ['being deleted, Bound', volume('Bound'), 'inUse'],
    ['being deleted, Released', volume('Released'), 'release [other]'],
    ['being deleted, Available', volume('Available'), 'release [other]'],
    ['being deleted, Failed', volume('Failed'), 'release [other]'],
    ['being deleted, finalizer already gone', volume('Released', { finalizers: ['other'] }), 'none'],
  ];
  for (const [name, pv, want] of cases) assert.equal(show(syncVolume(pv)), want, name);
});

test('claimsOf: the claims a pod names, as namespace/name', () => {
  assert.deepEqual(claimsOf(pod({ claim: 'x' })), ['ns/x']);
  assert.deepEqual(claimsOf({ metadata: { namespace: 'ns' }, spec: { containers: [] } }), []);
});
