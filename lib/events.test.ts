import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiClient } from './client';
import { EventRecorder } from './events';

function fakeClient(opts: { failCreate?: boolean } = {}) {
  const calls: { op: string; body: any; name?: string }[] = [];
  const client = {
    async create(_ref: unknown, body: any) {
      calls.push({ op: 'create', body });
      if (opts.failCreate) throw new Error('apiserver down');
      return body;
    },
    async patch(_ref: unknown, name: string, body: any) {
      calls.push({ op: 'patch', body, name });
      return body;
    },
  } as unknown as ApiClient;
  return { client, calls };
}

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1' } };

test('records an Event with involvedObject, source and count 1', async () => {
  const { client, calls } = fakeClient();
  const r = new EventRecorder(client, 'default-scheduler', { now: () => new Date('2024-01-01T00:00:00.123Z') });
  r.event(pod, 'Warning', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.');
  await r.flush();
  assert.equal(calls.length, 1);
  const ev = calls[0].body;
  assert.equal(ev.metadata.namespace, 'ns');
  assert.match(ev.metadata.name, /^p\./);
  assert.deepEqual(ev.involvedObject, { apiVersion: 'v1', kind: 'Pod', name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: undefined });
  assert.deepEqual([ev.type, ev.reason, ev.count, ev.firstTimestamp, ev.lastTimestamp, ev.source.component], ['Warning', 'FailedScheduling', 1, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 'default-scheduler']);
});

test('repeats bump count on the same Event; different messages make new Events', async () => {
  const { client, calls } = fakeClient();
  const r = new EventRecorder(client, 'c');
  r.event(pod, 'Normal', 'X', 'm');
  r.event(pod, 'Normal', 'X', 'm');
  r.event(pod, 'Normal', 'X', 'm');
  r.event(pod, 'Normal', 'X', 'other');
  await r.flush();
  const creates = calls.filter((c) => c.op === 'create');
  const patches = calls.filter((c) => c.op === 'patch');
  assert.deepEqual(creates.map((c) => c.body.message).sort(), ['m', 'other']);
  const first = creates.find((c) => c.body.message === 'm')!;
  assert.deepEqual(patches.map((p) => [p.name, p.body.count]), [[first.body.metadata.name, 2], [first.body.metadata.name, 3]]);
});

test('never throws when the apiserver fails', async () => {
  const { client } = fakeClient({ failCreate: true });
  const r = new EventRecorder(client, 'c');
  assert.doesNotThrow(() => r.event(pod, 'Normal', 'X', 'm'));
  await r.flush();
});
