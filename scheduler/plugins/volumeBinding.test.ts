import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { mkInfo, mkNode, mkPod, reasonsOf } from '../testutil';
import { delayedClaims, volumeBinding, type VolumeLister } from './volumeBinding';

const claim = (name: string, o: { cls?: string; volumeName?: string; selected?: string; deleting?: boolean } = {}): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'default', uid: `u-${name}`, annotations: o.selected ? { 'volume.kubernetes.io/selected-node': o.selected } : undefined, deletionTimestamp: o.deleting ? '2026-01-01T00:00:00Z' : undefined },
  spec: { storageClassName: o.cls, volumeName: o.volumeName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
});
const onNode = (name: string, node: string, o: { cls?: string; claimRef?: string } = {}): PersistentVolume => ({
  metadata: { name },
  spec: {
    capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: o.cls, claimRef: o.claimRef ? { namespace: 'default', name: o.claimRef } : undefined,
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
  },
});
const classes: StorageClass[] = [
  { metadata: { name: 'local-path' }, provisioner: 'coxswain.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' },
  { metadata: { name: 'fast' }, provisioner: 'x', volumeBindingMode: 'Immediate' },
  { metadata: { name: 'static' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' },
];

function lister(claims: PersistentVolumeClaim[], volumes: PersistentVolume[]): VolumeLister {
  return {
    claim: (ns, n) => claims.find((c) => c.metadata?.namespace === ns && c.metadata?.name === n),
    volume: (n) => volumes.find((v) => v.metadata?.name === n),
    volumes: () => volumes,
    storageClass: (n) => classes.find((c) => c.metadata?.name === n),
  };
}

const podWith = (...claims: string[]): Pod => {
  const p = mkPod('p');
  p.spec!.volumes = claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } }));
  return p;
};

test('VolumeBinding: bound claims follow their volume\'s node; unbound ones by binding mode, table', () => {
  const n1 = mkInfo(mkNode('n1', { labels: { 'kubernetes.io/hostname': 'n1' } }));
  const claims = [
    claim('bound-n1', { volumeName: 'pv-n1' }), claim('bound-n2', { volumeName: 'pv-n2' }), claim('bound-anywhere', { volumeName: 'pv-any' }),
    claim('bound-missing', { volumeName: 'gone' }), claim('immediate', { cls: 'fast' }), claim('no-class'), claim('unknown-class', { cls: 'nope' }),
    claim('wffc', { cls: 'local-path' }), claim('wffc-n1', { cls: 'local-path', selected: 'n1' }), claim('wffc-n2', { cls: 'local-path', selected: 'n2' }),
    claim('static', { cls: 'static' }), claim('static-none'), claim('deleting', { deleting: true }),
  ];
  claims.find((c) => c.metadata?.name === 'static-none')!.spec!.storageClassName = 'static';
  const volumes = [onNode('pv-n1', 'n1'), onNode('pv-n2', 'n2'), { metadata: { name: 'pv-any' }, spec: {} }, onNode('st-n1', 'n1', { cls: 'static', claimRef: 'static' })];
  const l = lister(claims, volumes);
  const f = volumeBinding(l);
  const cases: [string, Pod, string[] | undefined][] = [
    ['no claims', mkPod('p'), undefined],
    ['bound to a volume on this node', podWith('bound-n1'), undefined],
    ['bound to a volume on another node', podWith('bound-n1', 'bound-n2'), ['node(s) had volume node affinity conflict']],
    ['bound to a volume without node affinity', podWith('bound-anywhere'), undefined],
    ['bound to a volume that does not exist', podWith('bound-missing'), ['node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)']],
    ['unbound Immediate claim', podWith('immediate'), ['pod has unbound immediate PersistentVolumeClaims']],
    ['unbound claim without a class', podWith('no-class'), ['pod has unbound immediate PersistentVolumeClaims']],
    ['unbound claim of an unknown class', podWith('unknown-class'), ['pod has unbound immediate PersistentVolumeClaims']],
    ['unbound WaitForFirstConsumer claim: any node', podWith('wffc'), undefined],
    ['WaitForFirstConsumer, this node selected', podWith('wffc-n1'), undefined],
    ['WaitForFirstConsumer, another node selected', podWith('wffc-n2'), ["node(s) didn't match the node already selected for the pod's volume claims"]],
    ['no provisioner, a volume on this node', podWith('static'), undefined],
    ['no provisioner, no volume', podWith('static-none'), ["node(s) didn't find available persistent volumes to bind"]],
    ['claim missing', podWith('absent'), ['persistentvolumeclaim "absent" not found']],
    ['claim being deleted', podWith('deleting'), ['persistentvolumeclaim "deleting" is being deleted']],
  ];
  for (const [name, pod, want] of cases) assert.deepEqual(reasonsOf(f, pod, n1), want, name);
  assert.deepEqual(delayedClaims(podWith('bound-n1', 'wffc', 'immediate', 'wffc-n2'), l).map((c) => c.metadata?.name), ['wffc', 'wffc-n2']);
});
