import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from './memory';
import { CompactedError, FutureRevisionError, createKey } from './types';

test('MemoryStore: a list at an earlier revision is a CompactedError, at a later one a FutureRevisionError', async () => {
  const s = new MemoryStore();
  await createKey(s, '/a/1', Buffer.from('x'));
  const { revision } = await createKey(s, '/a/2', Buffer.from('y')) as { revision: number };
  assert.deepEqual((await s.list('/a/', { revision })).kvs.map((kv) => kv.key), ['/a/1', '/a/2']);
  await assert.rejects(s.list('/a/', { revision: revision - 1 }), (e: unknown) => e instanceof CompactedError && e.revision === revision - 1);
  await assert.rejects(s.list('/a/', { revision: revision + 1 }), FutureRevisionError);
});
