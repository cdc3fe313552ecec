import assert from 'node:assert/strict';
import test from 'node:test';
import { hollowOptions, parseLabels, parseTaints, parseZones, type HollowFlags } from './options';

const flags = (over: Partial<HollowFlags> = {}): HollowFlags => ({
  count: '3', prefix: 'zone-a-', cpu: '4', memory: '16Gi', pods: '110', leaseRenewInterval: '2s', leaseDurationSeconds: '8', nodeStatusInterval: '60s', concurrency: '32', ...over,
});

test('labels: key=value pairs, prefixed keys allowed', () => {
  assert.deepEqual(parseLabels('topology.kubernetes.io/zone=a, disk=ssd'), { 'topology.kubernetes.io/zone': 'a', disk: 'ssd' });
  assert.deepEqual(parseLabels(undefined), {});
  assert.deepEqual(parseLabels('empty='), { empty: '' });
});

test('labels: bad input names the flag and the reason', () => {
  assert.throws(() => parseLabels('novalue'), /--labels: "novalue" is not key=value/);
  assert.throws(() => parseLabels('a=b c'), /--labels: a: value "b c"/);
  assert.throws(() => parseLabels('Bad_Prefix/x=1'), /prefix must be a DNS subdomain/);
});

test('taints: key=value:Effect and key:Effect', () => {
  assert.deepEqual(parseTaints('gpu=true:NoSchedule,dedicated:NoExecute'), [
    { key: 'gpu', value: 'true', effect: 'NoSchedule' },
    { key: 'dedicated', effect: 'NoExecute' },
  ]);
  assert.throws(() => parseTaints('gpu=true'), /--taints: "gpu=true" is not key\[=value\]:Effect/);
  assert.throws(() => parseTaints('gpu=true:Never'), /effect must be one of NoSchedule, PreferNoSchedule, NoExecute/);
});

test('options: defaults converted, bad values refused with the flag named', () => {
  const o = hollowOptions(flags());
  assert.equal(o.count, 3);
  assert.equal(o.leaseRenewMs, 2000);
  assert.equal(o.nodeStatusMs, 60_000);
  assert.equal(o.pods, '110');
  assert.equal(o.deleteNodes, false);
  assert.throws(() => hollowOptions(flags({ count: '0' })), /--count: "0" must be a whole number from 1/);
  assert.throws(() => hollowOptions(flags({ prefix: 'Zone_' })), /--prefix: "Zone_": node names like "Zone_2"/);
  assert.throws(() => hollowOptions(flags({ memory: 'lots' })), /--memory: "lots" is not a positive quantity/);
  assert.throws(() => hollowOptions(flags({ pods: '300' })), /--pods: "300" must be a whole number from 1 to 250/);
  assert.throws(() => hollowOptions(flags({ leaseRenewInterval: '10s' })), /--lease-renew-interval: 10s must be shorter than --lease-duration-seconds \(8s\)/);
  assert.throws(() => hollowOptions(flags({ nodeStatusInterval: 'soon' })), /--node-status-interval: "soon" is not a positive duration/);
});

test('zones: a list of label values; refused twice, bad, or with a zone in --labels', () => {
  assert.deepEqual(parseZones('a, b,c', {}), ['a', 'b', 'c']);
  assert.deepEqual(parseZones(undefined, {}), []);
  assert.deepEqual(hollowOptions(flags({ zones: 'x,y' })).zones, ['x', 'y']);
  assert.throws(() => parseZones('a,a', {}), /--zones: "a" is given twice/);
  assert.throws(() => parseZones('a b', {}), /--zones: "a b" must be at most 63 characters/);
  assert.throws(() => hollowOptions(flags({ zones: 'a', labels: 'topology.kubernetes.io/zone=b' })), /--zones: cannot be used with topology.kubernetes.io\/zone in --labels/);
});
