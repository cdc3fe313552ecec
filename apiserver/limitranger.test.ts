import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, LimitRange, LimitRangeItem, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import { LIMIT_RANGER_ANNOTATION, checkPod, defaultPod, limitClaim } from './limitranger';
import { LIMIT_RANGE, defaultLimitRangeItem, validateLimitRange } from './groups/core/limitrange';

const range = (...limits: LimitRangeItem[]): LimitRange => ({ metadata: { name: 'lr', namespace: 'ns' }, spec: { limits } });
const pod = (...containers: Container[]): Pod => ({ metadata: { name: 'p' }, spec: { containers } });
const admit = (lr: LimitRange, p: Pod): string[] => { defaultPod(lr, p); return checkPod(lr, p); };

test('containers without requests or limits get the defaults, noted in the annotation', () => {
  const lr = range({ type: 'Container', default: { cpu: '500m', memory: '128Mi' }, defaultRequest: { cpu: '100m' } });
  const p = pod({ name: 'a', image: 'x' }, { name: 'b', image: 'x', resources: { limits: { cpu: '1' }, requests: { cpu: '1' } } });
  assert.deepEqual(admit(lr, p), []);
  assert.deepEqual(p.spec!.containers[0].resources, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  assert.deepEqual(p.spec!.containers[1].resources, { limits: { cpu: '1', memory: '128Mi' }, requests: { cpu: '1', memory: '128Mi' } });
  assert.equal(p.metadata!.annotations![LIMIT_RANGER_ANNOTATION], 'LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for container a; memory request for container b; memory limit for container b');
});

test('a LimitRange item is defaulted as Kubernetes does: default from max, defaultRequest from default, then from min', () => {
  const item: LimitRangeItem = { type: 'Container', max: { cpu: '2', memory: '1Gi' }, default: { memory: '256Mi' }, min: { cpu: '100m', 'ephemeral-storage': '1Gi' } };
  defaultLimitRangeItem(item);
  assert.deepEqual(item.default, { memory: '256Mi', cpu: '2' });
  assert.deepEqual(item.defaultRequest, { memory: '256Mi', cpu: '2', 'ephemeral-storage': '1Gi' });
  const podItem: LimitRangeItem = { type: 'Pod', max: { cpu: '2' } };
  defaultLimitRangeItem(podItem);
  assert.equal(podItem.default, undefined, 'only Container items get defaults');
});

test('min, max and maxLimitRequestRatio per Container, worded as Kubernetes', () => {
  const cases: [string, LimitRangeItem, Container['resources'], string[]][] = [
    ['over max', { type: 'Container', max: { cpu: '500m' } }, { limits: { cpu: '1' }, requests: { cpu: '100m' } }, ['maximum cpu usage per Container is 500m, but limit is 1']],
    ['request over max', { type: 'Container', max: { cpu: '500m' } }, { limits: { cpu: '500m' }, requests: { cpu: '600m' } }, ['maximum cpu usage per Container is 500m, but request is 600m']],
    ['under min', { type: 'Container', min: { memory: '64Mi' } }, { requests: { memory: '32Mi' } }, ['minimum memory usage per Container is 64Mi, but request is 32Mi']],
    ['limit under min', { type: 'Container', min: { cpu: '200m' } }, { requests: { cpu: '200m' }, limits: { cpu: '100m' } }, ['minimum cpu usage per Container is 200m, but limit is 100m']],
    ['ratio', { type: 'Container', maxLimitRequestRatio: { cpu: '2' } }, { requests: { cpu: '100m' }, limits: { cpu: '500m' } }, ['cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000']],
    ['ratio without limit', { type: 'Container', maxLimitRequestRatio: { memory: '2' } }, { requests: { memory: '1Gi' } }, ['memory max limit to request ratio per Container is 2, but no limit is specified or limit is 0']],
    ['within', { type: 'Container', min: { cpu: '100m' }, max: { cpu: '1' }, maxLimitRequestRatio: { cpu: '4' } }, { requests: { cpu: '250m' }, limits: { cpu: '1' } }, []],
  ];
  for (const [name, item, resources, want] of cases) {
    const p = pod({ name: 'c', image: 'x', resources });
    assert.deepEqual(checkPod(range(item), p), want, name);
  }
});

test('a max with no default limit to fill in: the default comes from max, so the container passes', () => {
  const p = pod({ name: 'c', image: 'x' });
  assert.deepEqual(admit(range({ type: 'Container', max: { cpu: '500m' } }), p), []);
  assert.deepEqual(p.spec!.containers[0].resources, { limits: { cpu: '500m' }, requests: { cpu: '500m' } });
});

test('Pod items bound the sum over containers (or a larger init container)', () => {
  const lr = range({ type: 'Pod', max: { cpu: '1' } });
  const two = pod({ name: 'a', image: 'x', resources: { limits: { cpu: '600m' } } }, { name: 'b', image: 'x', resources: { limits: { cpu: '600m' } } });
  assert.deepEqual(checkPod(lr, two), ['maximum cpu usage per Pod is 1, but limit is 1200m']);
  const init = pod({ name: 'a', image: 'x', resources: { limits: { cpu: '100m' } } });
  init.spec!.initContainers = [{ name: 'i', image: 'x', resources: { limits: { cpu: '2' } } }];
  assert.deepEqual(checkPod(lr, init), ['maximum cpu usage per Pod is 1, but limit is 2']);
  const one = pod({ name: 'a', image: 'x', resources: { limits: { cpu: '1' } } });
  assert.deepEqual(checkPod(lr, one), []);
});

test('PersistentVolumeClaim items bound the storage request', () => {
  const lr = range({ type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '10Gi' } });
  const claim = (storage?: string): PersistentVolumeClaim => ({ metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'], resources: storage ? { requests: { storage } } : {} } });
  assert.deepEqual(limitClaim(lr, claim('500Mi')), ['minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi']);
  assert.deepEqual(limitClaim(lr, claim('20Gi')), ['maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi']);
  assert.deepEqual(limitClaim(lr, claim('5Gi')), []);
  assert.equal(limitClaim(lr, claim()).length, 2, 'no request: both bounds say so');
});

test('a LimitRange whose bounds are out of order is invalid, worded as Kubernetes', () => {
  const lr = range({ type: 'Container', min: { cpu: '1' }, max: { cpu: '500m' } });
  LIMIT_RANGE.defaults!(lr as never);
  const msgs = validateLimitRange(lr).map((e) => `${e.field}: ${e.message}`);
  assert.ok(msgs.some((m) => m.startsWith('spec.limits[0].min[cpu]: ') && m.includes('min value 1 is greater than max value 500m')), msgs.join('\n'));
  const podDefaults = validateLimitRange(range({ type: 'Pod', default: { cpu: '1' } }));
  assert.deepEqual(podDefaults.map((e) => e.field), ['spec.limits[0].default']);
  assert.deepEqual(validateLimitRange(range({ type: 'Container', min: { cpu: '100m' }, defaultRequest: { cpu: '200m' }, default: { cpu: '300m' }, max: { cpu: '1' } })), []);
});
