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
