import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ApiError, type ApiClient } from '../lib/client';
import { FakeClock } from '../lib/fake-clock';
import { NodeLease } from './node-lease';

class FakeClient {
  patches: { spec: { leaseDurationSeconds: number; renewTime: string } }[] = [];
  down = false;
  async patch(_ref: unknown, _name: string, body: { spec: { leaseDurationSeconds: number; renewTime: string } }) {
    if (this.down) throw new ApiError(503, 'ServiceUnavailable', 'store unavailable');
    this.patches.push(body);
    return {};
  }
}

const log = pino({ level: 'silent' });
/** Lets the renewal a timer started run to its end. */
const settle = () => new Promise<void>((r) => setImmediate(r));

test('a renewal patches renewTime and the configured duration', async () => {
  const client = new FakeClient();
  const lease = new NodeLease(client as unknown as ApiClient, 'n1', log, { durationSeconds: 8, now: () => Date.parse('2024-01-01T00:00:00Z') });
  await lease.renew();
  assert.deepEqual(client.patches[0]?.spec, { holderIdentity: 'n1', leaseDurationSeconds: 8, renewTime: '2024-01-01T00:00:00.000000Z' });
});

test('renewals every renewMs; the first that works after failed ones calls onRecovered, once', async () => {
  const client = new FakeClient();
  const clock = new FakeClock();
  let recovered = 0;
  const lease = new NodeLease(client as unknown as ApiClient, 'n1', log, { renewMs: 2_000, clock, now: () => clock.now(), onRecovered: () => recovered++ });
  lease.start();
  await settle();
  assert.equal(client.patches.length, 1);
  clock.advance(1_999);
  await settle();
  assert.equal(client.patches.length, 1, 'not before renewMs');
  client.down = true;
  for (let i = 0; i < 3; i++) {
    clock.advance(2_000);
    await settle();
  }
  assert.equal(recovered, 0);
  client.down = false;
  for (let i = 0; i < 2; i++) {
    clock.advance(2_000);
    await settle();
  }
  lease.stop();
  assert.equal(client.patches.length, 3);
  assert.equal(recovered, 1);
});
