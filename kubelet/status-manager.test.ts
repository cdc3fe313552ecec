import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import { ApiError, type ApiClient } from '../lib/client';
import { StatusManager } from './status-manager';

class FakeClient {
  patches: { name: string; body: { metadata: { uid: string }; status: PodStatus }; subresource?: string }[] = [];
  deletes: { name: string; opts: Record<string, unknown> }[] = [];
  failNext = 0;
  async patch(_ref: unknown, name: string, body: never, opts: { subresource?: string }) {
    if (this.failNext > 0) {
      this.failNext--;
      throw new ApiError(500, 'InternalError', 'boom');
    }
    this.patches.push({ name, body, subresource: opts.subresource });
    return {};
  }
  async delete(_ref: unknown, name: string, opts: Record<string, unknown>) {
    this.deletes.push({ name, opts });
    throw new ApiError(404, 'NotFound', 'gone');
  }
}

const log = pino({ level: 'silent' });
const pod: Pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, status: { phase: 'Pending' } };

test('writes a status only when it changed, as a merge patch of pods/status carrying the uid', async () => {
  const client = new FakeClient();
  const sm = new StatusManager(client as unknown as ApiClient, log);
  sm.setStatus(pod, { phase: 'Pending' }); // equal to the API's copy: nothing to write
  await sm.flush();
  assert.equal(client.patches.length, 0);
  sm.setStatus(pod, { phase: 'Running', podIP: '10.244.0.2' });
  await sm.flush();
  assert.equal(client.patches.length, 1);
  assert.deepEqual(client.patches[0], { name: 'p', subresource: 'status', body: { metadata: { uid: 'u1' }, status: { phase: 'Running', podIP: '10.244.0.2' } } });
  sm.setStatus(pod, { podIP: '10.244.0.2', phase: 'Running' }); // same as written
  await sm.flush();
  assert.equal(client.patches.length, 1);
});

test('a failed write is retried with the newest status', async () => {
  const client = new FakeClient();
  client.failNext = 1;
  const sm = new StatusManager(client as unknown as ApiClient, log);
  sm.setStatus(pod, { phase: 'Running' });
  await sm.flush();
  assert.equal(client.patches.length, 0);
  sm.setStatus(pod, { phase: 'Failed' });
  await sm.flush();
  assert.deepEqual(client.patches.map((p) => p.body.status.phase), ['Failed']);
  sm.stop();
});

test('final delete uses grace 0 with a uid precondition and tolerates NotFound', async () => {
  const client = new FakeClient();
  const sm = new StatusManager(client as unknown as ApiClient, log);
  await sm.deletePod(pod);
  assert.deepEqual(client.deletes, [{ name: 'p', opts: { namespace: 'default', gracePeriodSeconds: 0, preconditions: { uid: 'u1' } } }]);
});

test('writes for different pods go out concurrently (up to the limit); one pod\'s writes never overtake each other', async () => {
  let inFlight = 0;
  let most = 0;
  const order: string[] = [];
  const gates: (() => void)[] = [];
  const client = {
    async patch(_ref: unknown, name: string, body: { status: PodStatus }) {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise<void>((resolve) => gates.push(resolve));
      order.push(`${name}:${body.status.phase}`);
      inFlight--;
      return {};
    },
  };
  const sm = new StatusManager(client as unknown as ApiClient, log, undefined, 3);
  const mk = (i: number): Pod => ({ metadata: { name: `p${i}`, namespace: 'default', uid: `u${i}` }, status: { phase: 'Pending' } });
  for (let i = 0; i < 5; i++) sm.setStatus(mk(i), { phase: 'Running' });
  sm.setStatus(mk(0), { phase: 'Failed' }); // while p0's first write is in flight
  const done = sm.flush();
  while (order.length < 6) {
    await new Promise((r) => setImmediate(r));
    gates.shift()?.();
  }
  await done;
  assert.equal(most, 3);
  assert.ok(order.indexOf('p0:Running') < order.indexOf('p0:Failed'), order.join(' '));
  assert.equal(order.length, 6);
});

test('a status equal to the one being written is not written again; a failed write is still retried with it', async () => {
  const gates: (() => void)[] = [];
  const written: string[] = [];
  let fail = true;
  const client = {
    async patch(_ref: unknown, _name: string, body: { status: PodStatus }) {
      await new Promise<void>((resolve) => gates.push(resolve));
      if (fail) {
        fail = false;
        throw new ApiError(500, 'InternalError', 'boom');
      }
      written.push(body.status.phase!);
      return {};
    },
  };
  const release = async () => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
  };
  const sm = new StatusManager(client as unknown as ApiClient, log);
  // Second round: the first write succeeds; the same status set meanwhile (a later sync) adds no write.
  fail = false;
  sm.setStatus(pod, { phase: 'Running' });
  sm.setStatus(pod, { phase: 'Running' });
  await release();
  await sm.flush();
  assert.deepEqual(written, ['Running']);
  sm.stop();

  // The same, but the in-flight write fails: the status is retried (after 1 s) and lands once.
  const pod2: Pod = { metadata: { name: 'q', namespace: 'default', uid: 'u2' }, status: { phase: 'Pending' } };
  const sm2 = new StatusManager(client as unknown as ApiClient, log);
  fail = true;
  sm2.setStatus(pod2, { phase: 'Failed' });
  sm2.setStatus(pod2, { phase: 'Failed' });
  await release();
  await sm2.flush();
  await release();
  await sm2.flush();
  assert.deepEqual(written, ['Running', 'Failed']);
  sm2.stop();
});

test('readiness turned False by another writer (node lifecycle controller) is written back once', async () => {
  const client = new FakeClient();
  const sm = new StatusManager(client as unknown as ApiClient, log);
  const ready: PodStatus = { phase: 'Running', qosClass: 'BestEffort', conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }] };
  sm.setStatus(pod, ready);
  await sm.flush();
  assert.equal(client.patches.length, 1);
  // Our own write coming back (with a field the apiserver keeps): nothing to do.
  sm.apiStatusChanged({ ...pod, status: { ...ready, startTime: '2024-01-01T00:00:00Z' } });
  await sm.flush();
  assert.equal(client.patches.length, 1);
  const marked: PodStatus = { ...ready, conditions: [{ type: 'Ready', status: 'False', reason: 'NodeNotReady' }, { type: 'ContainersReady', status: 'False' }] };
  sm.apiStatusChanged({ ...pod, status: marked });
  await sm.flush();
  assert.equal(client.patches.length, 2);
  assert.deepEqual(client.patches[1].body.status, ready);
});
