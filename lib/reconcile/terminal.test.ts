import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ApiError, type ApiClient, type KubeObject } from '../client';
import { EventRecorder } from '../events';
import { FakeClock } from '../fake-clock';
import { Controller } from './controller';
import { ControllerMetrics } from './metrics';
import { isTerminal, TerminalError } from './terminal';

test('which errors are terminal', () => {
  const cases: [string, unknown, boolean][] = [
    ['TerminalError', new TerminalError('bad spec'), true],
    ['422 Invalid', new ApiError(422, 'Invalid', 'spec.replicas: Invalid value'), true],
    ['400 BadRequest', new ApiError(400, 'BadRequest', 'bad body'), true],
    ['409 Conflict', new ApiError(409, 'Conflict', 'stale'), false],
    ['404 NotFound', new ApiError(404, 'NotFound', 'gone'), false],
    ['500', new ApiError(500, 'InternalError', 'oops'), false],
    ['plain Error', new Error('ECONNREFUSED'), false],
  ];
  for (const [name, err, want] of cases) assert.equal(isTerminal(err), want, name);
});

/** An ApiClient that keeps the Events it is asked to create. */
function eventSink(): { client: ApiClient; events: KubeObject[] } {
  const events: KubeObject[] = [];
  const client = {
    async create(_ref: unknown, obj: KubeObject) {
      events.push(obj);
      return obj;
    },
    async patch() {
      throw new Error('not expected');
    },
  } as unknown as ApiClient;
  return { client, events };
}

for (const [name, err, reason] of [
  ['a TerminalError', new TerminalError('replicas must be >= 0', 'InvalidSpec'), 'InvalidSpec'],
  ['a 422 from the apiserver', new ApiError(422, 'Invalid', 'Pod "x" is invalid'), 'Invalid'],
] as const) {
  test(`${name} is recorded and not retried`, async () => {
    const clock = new FakeClock();
    const metrics = new ControllerMetrics(new Registry());
    const { client, events } = eventSink();
    const recorder = new EventRecorder(client, 'test');
    let runs = 0;
    const obj: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 'ns', name: 'web', uid: 'u1' } };
    const c = new Controller({
      name: 't',
      clock,
      metrics,
      recorder,
      objectFor: (k) => (k === 'ns/web' ? obj : undefined),
      reconcile: async () => {
        runs++;
        throw err;
      },
    });
    await c.processOne('ns/web');
    clock.advance(60_000);
    assert.equal(c.queue.length, 0, 'not requeued');
    assert.equal(c.queue.numRequeues('ns/web'), 0, 'forgotten');
    assert.equal(runs, 1);
    await recorder.flush();
    assert.equal(events.length, 1);
    const ev = events[0] as KubeObject & { type?: string; reason?: string; message?: string; involvedObject?: { name?: string; kind?: string } };
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.reason, reason);
    assert.equal(ev.message, err.message);
    assert.deepEqual([ev.involvedObject?.kind, ev.involvedObject?.name], ['Deployment', 'web']);
    assert.match(await metrics.registry.metrics(), /coxswain_controller_reconcile_total\{controller="t",result="terminal"\} 1/);
  });
}

test('a terminal failure of a key whose object is gone records no event', async () => {
  const { client, events } = eventSink();
  const recorder = new EventRecorder(client, 'test');
  const c = new Controller({ name: 't', clock: new FakeClock(), recorder, objectFor: () => undefined, reconcile: async () => { throw new TerminalError('x'); } });
  await c.processOne('ns/gone');
  await recorder.flush();
  assert.equal(events.length, 0);
  assert.equal(c.queue.length, 0);
});
