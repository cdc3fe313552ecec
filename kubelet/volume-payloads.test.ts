import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { volumePayload, type Payload } from './volume-payloads';

const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { b: '2', a: '1' } }, spec: { containers: [{ name: 'c', resources: { limits: { memory: '64Mi' } } }] } };
const objects = {
  configMaps: new Map([['cm', { data: { x: 'X', y: 'Y' }, binaryData: { bin: Buffer.from([0, 1]).toString('base64') } }], ['missing', null]]) as never,
  secrets: new Map([['s', { data: { k: Buffer.from('v').toString('base64') } }]]) as never,
};
const facts = { hostIP: '1.1.1.1', nodeName: 'n', podIP: '10.0.0.2' };
const files = (p: Payload) => Object.fromEntries([...p].map(([k, f]) => [k, [f.data.toString('utf8'), f.mode.toString(8)]]));

test('volumePayload: configMap keys/items/modes, optional, secret, downwardAPI, projected', () => {
  assert.deepEqual(files(volumePayload(pod, { name: 'v', configMap: { name: 'cm', items: [{ key: 'x', path: 'sub/x.txt', mode: 0o600 }] } }, objects, facts)), { 'sub/x.txt': ['X', '600'] });
  assert.deepEqual(Object.keys(files(volumePayload(pod, { name: 'v', configMap: { name: 'cm' } }, objects, facts))).sort(), ['bin', 'x', 'y']);
  assert.deepEqual(files(volumePayload(pod, { name: 'v', configMap: { name: 'missing', optional: true } }, objects, facts)), {});
  assert.throws(() => volumePayload(pod, { name: 'v', configMap: { name: 'missing' } }, objects, facts), /configmap "missing" not found/);
  assert.throws(() => volumePayload(pod, { name: 'v', configMap: { name: 'cm', items: [{ key: 'nope', path: 'n' }] } }, objects, facts), /key "nope" not found/);
  assert.throws(() => volumePayload(pod, { name: 'v', configMap: { name: 'cm', items: [{ key: 'x', path: '../escape' }] } }, objects, facts), /invalid item path/);
  assert.deepEqual(files(volumePayload(pod, { name: 'v', secret: { secretName: 's', defaultMode: 0o400 } }, objects, facts)), { k: ['v', '400'] });
  assert.deepEqual(
    files(volumePayload(pod, { name: 'v', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }, { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } }] } }, objects, facts)),
    { labels: ['a="1"\nb="2"', '644'], ip: ['10.0.0.2', '644'], mem: ['64', '644'] },
  );
  const proj = volumePayload(pod, { name: 'v', projected: { defaultMode: 0o440, sources: [{ secret: { name: 's' } }, { serviceAccountToken: { path: 'token' } }] } }, objects, facts, () => 'tkn');
  assert.deepEqual(files(proj), { k: ['v', '440'], token: ['tkn', '440'] });
  assert.throws(() => volumePayload(pod, { name: 'v', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }, objects, facts), (e: Error & { reason?: string }) => e.reason === 'CreateContainerConfigError');
});
