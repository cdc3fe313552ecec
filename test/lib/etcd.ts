/**
 * Real etcd clusters (Debian's /usr/bin/etcd) of n members on free ports, in temp dirs,
 * for the apiserver's cross-process tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './util';

export interface EtcdMember { name: string; clientUrl: string; peerUrl: string; proc: ChildProcess; dir: string; output: string[] }

/** Start an etcd cluster of `n` members on free ports; resolves once every member is spawned. */
export async function startEtcd(n = 1): Promise<{ members: EtcdMember[]; endpoints: string[]; stop(): Promise<void>; kill(m: EtcdMember): Promise<void> }> {
  const specs = [];
  for (let i = 0; i < n; i++) specs.push({ name: `e${i}`, client: await freePort(), peer: await freePort() });
  const initial = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peer}`).join(',');
  const token = `t${process.pid}${Date.now()}`;
  const members: EtcdMember[] = specs.map((s) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cox-etcd-'));
    const clientUrl = `http://127.0.0.1:${s.client}`;
    const peerUrl = `http://127.0.0.1:${s.peer}`;
    const proc = spawn('/usr/bin/etcd', [
      '--name', s.name, '--data-dir', dir,
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', initial, '--initial-cluster-token', token, '--initial-cluster-state', 'new',
      '--heartbeat-interval', '100', '--election-timeout', '1000', '--logger', 'zap', '--log-level', 'error',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    proc.stdout!.on('data', (d) => output.push(String(d)));
    proc.stderr!.on('data', (d) => output.push(String(d)));
    return { name: s.name, clientUrl, peerUrl, proc, dir, output };
  });
  const kill = async (m: EtcdMember) => {
    if (m.proc.exitCode !== null || m.proc.signalCode !== null) return;
    const done = new Promise((r) => m.proc.once('exit', r));
    m.proc.kill('SIGKILL');
    await done;
  };
  return {
    members,
    endpoints: members.map((m) => m.clientUrl),
    kill,
    async stop() {
      for (const m of members) {
        await kill(m);
        rmSync(m.dir, { recursive: true, force: true });
      }
    },
  };
}
