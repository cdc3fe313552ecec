import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileAuditSink } from './audit';

test('file audit sink: every record of a burst is written, in order, and close flushes', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'audit-test-'));
  try {
    const file = path.join(dir, 'sub', 'audit.log');
    const sink = fileAuditSink(file);
    const user = { name: 'admin', groups: ['system:masters'] };
    for (let i = 0; i < 500; i++) {
      sink.write({ user, method: 'POST', uri: `/api/v1/namespaces/default/configmaps?i=${i}`, code: 201, received: new Date(), attrs: { verb: 'create', group: '', version: 'v1', resource: 'configmaps', namespace: 'default' } });
    }
    await sink.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 500);
    assert.deepEqual(lines.map((l) => l.requestURI), Array.from({ length: 500 }, (_, i) => `/api/v1/namespaces/default/configmaps?i=${i}`));
    assert.equal(lines[0].objectRef.resource, 'configmaps');
    assert.equal(new Set(lines.map((l) => l.auditID)).size, 500);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
