/**
 * The apiserver process before its store answers: it must wait (not exit), and
 * SIGTERM must stop it cleanly while it waits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureClusterPki, pkiPaths } from '../lib/pki';
import { startProcess } from './lib/cluster';
import { freePort } from './lib/util';

test('an apiserver whose store is down keeps waiting for it, and stops cleanly on SIGTERM', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-apiserver-life-'));
  try {
    await ensureClusterPki(dir, { nodeName: 'n' });
    const pki = pkiPaths(dir);
    const dead = [await freePort(), await freePort()].map((p) => `http://127.0.0.1:${p}`);
    const p = startProcess('apiserver', dir, [
      'apiserver', '--secure-port', String(await freePort()),
      '--tls-cert-file', pki.apiserver.cert, '--tls-private-key-file', pki.apiserver.key, '--client-ca-file', pki.ca.cert,
      '--store-endpoints', dead.join(','),
    ]);
    // Before the fix it exited with code 0 within a second: nothing kept its event loop alive.
    const early = await Promise.race([p.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 3_000))]);
    assert.equal(early, undefined, `the apiserver exited while waiting for its store: ${JSON.stringify(early)}`);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const end = await Promise.race([p.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
    if (end === 'timeout') p.child.kill('SIGKILL');
    assert.deepEqual(end, { code: 0, signal: null }, 'a clean exit on SIGTERM');
    assert.ok(Date.now() - t0 < 10_000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
