/**
 * `coxswain up` (npm start) on a host that cannot run a node says why in one line and exits,
 * before it writes or starts anything, instead of a cluster that never gets ready.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { COXSWAIN } from './lib/up';

function up(home: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile(process.execPath, [COXSWAIN, 'up', '--home', home], { env: { ...process.env, ...env }, timeout: 30_000 }, (_err, stdout, stderr) => {
      resolve({ code: p.exitCode, stdout, stderr });
    });
  });
}

test('coxswain up with no Docker engine answering: one line naming the socket and what to do, exit 2, nothing written', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-preflight-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const home = path.join(dir, 'home');
  const socket = path.join(dir, 'no-engine.sock');
  const r = await up(home, { DOCKER_HOST: `unix://${socket}` });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, new RegExp(`^coxswain: cannot start a node on this host: no Docker engine answers on ${socket} \\(ENOENT\\): start it`));
  assert.equal(existsSync(home), false, 'no data folder was created');
});

test('coxswain up with a tcp:// DOCKER_HOST: refused in one line, exit 2', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-preflight-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const r = await up(path.join(dir, 'home'), { DOCKER_HOST: 'tcp://127.0.0.1:2375' });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^coxswain: cannot start a node on this host: DOCKER_HOST=tcp:\/\/127\.0\.0\.1:2375 is not a unix:\/\/ socket/);
});
