/**
 * The two 3-member clusters the store benchmark compares: Debian's etcd 3.4
 * (three `etcd` processes) and Coxswain's store (three `coxswain store`
 * processes), both on loopback, free ports, temp data dirs, default durability
 * and the same Raft timing (heartbeat 100 ms, election timeout 1000 ms, etcd's
 * defaults and Coxswain's defaults).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, startProcess, stopProcess, type Proc } from '../../test/lib/cluster';
import { StoreCluster } from '../../test/lib/store-cluster';
import { findLeader } from './etcd-client';
import { sleep } from './report';

export interface BenchCluster {
  system: 'etcd' | 'coxswain';
  /** Client endpoints "127.0.0.1:port", member i at index i. */
  endpoints: string[];
  pids: number[];
  leader: string;
  /** A member that is not the leader. */
  follower: string;
  version: string;
  stop(): Promise<void>;
}

export const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';

async function waitLeader(endpoints: string[], timeoutMs: number): Promise<{ endpoint: string; version: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const l = await findLeader(endpoints);
    if (l) return l;
    if (Date.now() > deadline) throw new Error(`no leader among ${endpoints.join(',')} within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Three etcd members with etcd's default settings (WAL fsync on every Ready; etcd 3.4 cannot turn it off). */
export async function startEtcdCluster(size = 3): Promise<BenchCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-bench-etcd-'));
  const members: { name: string; client: number; peer: number }[] = [];
  for (let i = 1; i <= size; i++) members.push({ name: `e${i}`, client: await freePort(), peer: await freePort() });
  const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  const token = `bench-${process.pid}-${Date.now()}`;
  const procs: Proc[] = members.map((m) =>
    startProcess(m.name, dir, [
      '--name', m.name,
      '--data-dir', path.join(dir, m.name),
      '--listen-client-urls', `http://127.0.0.1:${m.client}`,
      '--advertise-client-urls', `http://127.0.0.1:${m.client}`,
      '--listen-peer-urls', `http://127.0.0.1:${m.peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peer}`,
      '--initial-cluster', initial,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', token,
    ], { command: ETCD_BIN }),
  );
  const endpoints = members.map((m) => `127.0.0.1:${m.client}`);
  const stop = async () => {
    await Promise.all(procs.map((p) => stopProcess(p)));
    if (!process.env.COXSWAIN_KEEP_TEST_DIRS) await rm(dir, { recursive: true, force: true });
  };
  try {
    const l = await waitLeader(endpoints, 30_000);
    return {
      system: 'etcd', endpoints, pids: procs.map((p) => p.child.pid!), leader: l.endpoint,
      follower: endpoints.find((e) => e !== l.endpoint)!, version: l.version, stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Three Coxswain store replicas (their default durability: one synced LevelDB batch per Ready). */
export async function startCoxswainCluster(size = 3): Promise<BenchCluster> {
  const c = await StoreCluster.start({ size, heartbeatMs: 100, electionTimeoutMs: 1000 });
  const endpoints = c.members.map((m) => `127.0.0.1:${m.clientPort}`);
  try {
    const l = await waitLeader(endpoints, 30_000);
    return {
      system: 'coxswain', endpoints, pids: c.members.map((m) => m.proc!.pid!), leader: l.endpoint,
      follower: endpoints.find((e) => e !== l.endpoint)!, version: l.version, stop: () => stopBounded(c),
    };
  } catch (err) {
    await stopBounded(c);
    throw err;
  }
}

/** SIGTERM every replica; any still running after 10 s gets SIGKILL. */
async function stopBounded(c: StoreCluster): Promise<void> {
  const t = setTimeout(() => {
    for (const m of c.alive()) m.proc?.kill('SIGKILL');
  }, 10_000);
  try {
    await c.stop();
  } finally {
    clearTimeout(t);
  }
}
