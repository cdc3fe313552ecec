import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type ApiClient, type KubeObject, type ObjectList, type WatchEvent } from './client';
import { Informer, stripManagedFields } from './informer';
import { PODS } from './resources';

type Watch = (opts: { resourceVersion?: string; signal?: AbortSignal }, onEvent: (ev: WatchEvent) => void) => Promise<void>;

/** An ApiClient stand-in: `lists` are answered in order (an Error is thrown), `watches` likewise; then the watch blocks until aborted. */
function fakeClient(lists: (ObjectList | Error)[], watches: Watch[]): { client: ApiClient; calls: string[] } {
  const calls: string[] = [];
  const blockUntilAborted: Watch = (opts) => new Promise((resolve) => opts.signal?.addEventListener('abort', () => resolve(), { once: true }));
  const client = {
    async list() {
      calls.push('list');
      const next = lists.length > 1 ? lists.shift()! : lists[0];
      if (next instanceof Error) throw next;
      return structuredClone(next);
    },
    async watch(_ref: unknown, opts: { resourceVersion?: string; signal?: AbortSignal }, onEvent: (ev: WatchEvent) => void) {
      calls.push(`watch@${opts.resourceVersion}`);
      return (watches.shift() ?? blockUntilAborted)(opts, onEvent);
    },
  } as unknown as ApiClient;
  return { client, calls };
}

const pod = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'default', resourceVersion: rv } });
const list = (rv: string, ...items: KubeObject[]): ObjectList => ({ metadata: { resourceVersion: rv }, items });
const noDelay = async () => undefined;

test('stop() releases start() even when the apiserver never answered', async () => {
  const { client } = fakeClient([new Error('connect ECONNREFUSED')], []);
  const inf = new Informer(client, PODS, { delay: (ms, signal) => new Promise((r) => { const t = setTimeout(r, 5); signal.addEventListener('abort', () => { clearTimeout(t); r(); }); }) });
  const started = inf.start();
  await new Promise((r) => setTimeout(r, 20));
  await inf.stop();
  await started; // would hang before the fix
  assert.equal(inf.hasSynced, false);
});

test('an ERROR 410 event relists and emits the difference; other failures back off and re-watch from the last resourceVersion', async () => {
  const seen: string[] = [];
  const { client, calls } = fakeClient(
    [list('10', pod('a', '5'), pod('b', '6')), list('20', pod('b', '6'), pod('c', '15'))],
    [
      async (_o, onEvent) => onEvent({ type: 'MODIFIED', object: pod('a', '11') }),
      async () => { throw new Error('socket hang up'); },
      async (_o, onEvent) => onEvent({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } as KubeObject }),
    ],
  );
  const inf = new Informer(client, PODS, { delay: noDelay }).on({
    add: (o) => seen.push(`add ${o.metadata?.name}`),
    update: (_o, n) => seen.push(`update ${n.metadata?.name}@${n.metadata?.resourceVersion}`),
    delete: (o) => seen.push(`delete ${o.metadata?.name}`),
  });
  await inf.start();
  const deadline = Date.now() + 2_000;
  while (!seen.includes('delete a') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await inf.stop();
  assert.deepEqual(calls.slice(0, 6), ['list', 'watch@10', 'watch@11', 'watch@11', 'list', 'watch@20']);
  assert.deepEqual(seen, ['add a', 'add b', 'update a@11', 'add c', 'delete a']);
  assert.deepEqual(inf.list().map((o) => o.metadata?.name).sort(), ['b', 'c']);
});

test('a 410 from the watch request itself also relists', async () => {
  const { client, calls } = fakeClient([list('10'), list('30')], [async () => { throw new ApiError(410, 'Expired', 'too old'); }]);
  const inf = new Informer(client, PODS, { delay: noDelay });
  await inf.start();
  const deadline = Date.now() + 2_000;
  while (calls.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await inf.stop();
  assert.deepEqual(calls.slice(0, 4), ['list', 'watch@10', 'list', 'watch@30']);
});

test('a transform (stripManagedFields) applies to listed and watched objects before handlers and the cache see them', async () => {
  const withFields = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'default', resourceVersion: rv, managedFields: [{ manager: 'kubectl', operation: 'Update' }] } });
  const handed: KubeObject[] = [];
  let watched = false;
  const { client } = fakeClient([list('10', withFields('a', '5'))], [
    async (_o, onEvent) => {
      onEvent({ type: 'ADDED', object: withFields('b', '11') });
      onEvent({ type: 'DELETED', object: withFields('a', '12') });
      watched = true;
    },
  ]);
  const inf = new Informer(client, PODS, { delay: noDelay, transform: stripManagedFields }).on({ add: (o) => handed.push(o), delete: (o) => handed.push(o) });
  await inf.start();
  const deadline = Date.now() + 2_000;
  while (!watched && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await inf.stop();
  assert.equal(handed.length, 3);
  for (const o of [...handed, ...inf.list()]) assert.equal(o.metadata?.managedFields, undefined, o.metadata?.name);
  assert.equal(inf.get('default/b')?.metadata?.resourceVersion, '11');
});
