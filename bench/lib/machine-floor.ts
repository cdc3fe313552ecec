/**
 * What this machine charges for the messages any control plane must exchange, measured
 * without Coxswain's code: a Node.js HTTPS "hello" request (a keep-alive connection, the
 * server in its own process) and an etcd Put. Both are the least an API write can cost: a
 * request from a client to the apiserver, and a write to the store. bench:scheduler reports
 * the pods/s a pipeline of W such writes per pod could reach on this machine's cores at best.
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { EtcdConn } from './etcd-client';
import { closedLoop } from './load';
import { cpuMs } from './report';

export interface FloorCost {
  /** CPU ms per operation on the serving side (its own process) and on the calling side (this process). */
  serverMs: number;
  clientMs: number;
  perSecond: number;
}

/** The hello server, as a script the child runs: answers every request over TLS with a small JSON Status. */
const HELLO_SERVER = `
const https = require('node:https');
const fs = require('node:fs');
const [cert, key] = process.argv.slice(2);
const s = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  req.resume();
  res.setHeader('Content-Type', 'application/json');
  res.end('{"kind":"Status","status":"Success"}');
});
s.listen(0, '127.0.0.1', () => process.send(s.address().port));
`;

/** Warms up, then runs `op` closed-loop (bench/lib/load.ts) and charges each process's CPU to the ops done. */
async function measure(ops: number, concurrency: number, serverPid: number, op: () => Promise<void>): Promise<FloorCost> {
  for (let i = 0; i < 300; i++) await op(); // warm-up: connections open, V8 optimised
  const s0 = cpuMs(serverPid) ?? NaN;
  const c0 = process.cpuUsage();
  const r = await closedLoop(concurrency, ops, 60_000, op);
  const c = process.cpuUsage(c0);
  const done = Math.max(1, r.ops);
  return { serverMs: ((cpuMs(serverPid) ?? NaN) - s0) / done, clientMs: (c.user + c.system) / 1000 / done, perSecond: r.ops / r.seconds };
}

/** HTTPS round trips to a hello server in a child process serving `cert`/`key` (signed by `ca`). */
export async function httpsFloor(dir: string, cert: string, key: string, ca: string, ops = 4000, concurrency = 32): Promise<FloorCost> {
  const script = path.join(dir, 'hello-server.js');
  writeFileSync(script, HELLO_SERVER);
  const child = fork(script, [cert, key], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve(Number(m)));
      child.once('exit', (code) => reject(new Error(`hello server exited with ${code}`)));
    });
    const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca: readFileSync(ca), checkServerIdentity: () => undefined });
    const op = () =>
      new Promise<void>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, path: '/', method: 'POST', agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end('{"spec":{"renewTime":"2026-01-01T00:00:00.000000Z"}}');
      });
    const r = await measure(ops, concurrency, child.pid!, op);
    agent.destroy();
    return r;
  } finally {
    child.kill();
  }
}

/** etcd Puts of a 2 KiB value (a pod's size) to one member, `storePid` its process. */
export async function etcdPutFloor(endpoint: string, storePid: number, ops = 4000, concurrency = 32): Promise<FloorCost> {
  const conn = new EtcdConn(endpoint.replace(/^https?:\/\//, ''));
  const value = Buffer.alloc(2048, 'x');
  let i = 0;
  try {
    return await measure(ops, concurrency, storePid, async () => {
      await conn.put(Buffer.from(`/bench-floor/${i++ % 1000}`), value);
    });
  } finally {
    conn.close();
  }
}

/** The pods/s `writes` API writes per pod allow on this machine's cores when each costs one floor request and one floor store write, nothing else. */
export function floorPodsPerSecond(writes: number, req: FloorCost, put: FloorCost): number {
  const perPod = writes * (req.serverMs + req.clientMs + put.serverMs);
  return (os.cpus().length * 1000) / perPod;
}
