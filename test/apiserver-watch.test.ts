/**
 * A watch answers at once: client-go's Watch() returns only when the response headers arrive,
 * so a watch on a quiet collection must not hold them back until the first event
 * (`kubectl wait` on an object that already met its condition hung until its timeout).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startControlPlane } from './lib/cluster';

test('a watch with no events yet gets its response headers at once', async () => {
  const cp = await startControlPlane({ store: 'etcd' });
  try {
    const list = await cp.client.request<{ metadata: { resourceVersion: string } }>('GET', '/api/v1/namespaces/default/configmaps');
    const abort = new AbortController();
    const t0 = Date.now();
    const res = await cp.client.stream('GET', '/api/v1/namespaces/default/configmaps', {
      query: { watch: 'true', resourceVersion: list.metadata.resourceVersion, fieldSelector: 'metadata.name=nothing-here' },
      signal: abort.signal,
      timeoutMs: 5_000,
    });
    const waitedMs = Date.now() - t0;
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /json/);
    // Headers, no body yet: well under the 3 s the server may wait for a too-new resourceVersion.
    assert.ok(waitedMs < 2_000, `headers after ${waitedMs} ms`);
    abort.abort();
    res.destroy();
  } finally {
    await cp.stop();
  }
});
