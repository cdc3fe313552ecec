/**
 * Host-gw pod routing across hosts, for real: network namespaces as hosts on one
 * LAN bridge, each with the kubelet's own pod bridge and rules (BridgePodNetwork,
 * run inside the namespace) and a namespace standing in for a pod, and the
 * kubelet's NodeRoutes (Node informer → RouteSync → NetworkUnavailable) against a
 * real apiserver, its `ip` commands run in the host's namespace.
 *
 *   [lan ns: br0 10.233.0.0/24] ──veth── [h1: eth0 .11, pod bridge 10.244.1.1] ──veth── [p1: 10.244.1.2]
 *                               ──veth── [h2: eth0 .12, pod bridge 10.244.2.1] ──veth── [p2: 10.244.2.2]
 *
 * Needs root (ip netns, iptables). Run under the e2e lock.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Event, Node } from 'kubernetes-types/core/v1';
import { ApiClient } from '../lib/client';
import { EventRecorder } from '../lib/events';
import pino from 'pino';
import { EVENTS, NODES } from '../lib/resources';
import { NodeManager } from '../kubelet/node-manager';
import { NodeRoutes } from '../kubelet/node-routes';
import { runCommand, type CommandRunner } from '../kubelet/pod-network';
import { startControlPlane, waitFor, type ControlPlane } from './lib/cluster';

const P = `cxr${process.pid}`;
const LAN = `${P}l`;
const CLUSTER_CIDR = '10.244.0.0/16';
const hosts = [1, 2].map((i) => ({ i, name: `n${i}`, ns: `${P}h${i}`, pod: `${P}p${i}`, ip: `10.233.0.1${i}`, podCIDR: `10.244.${i}.0/24`, podIP: `10.244.${i}.2` }));
const DIST = path.resolve(__dirname, '..');

function sh(args: string[]): string {
  return execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `cmd` run in network namespace `ns`, as the kubelet would run it on that host. */
const inNs = (ns: string): CommandRunner => (cmd, args, input) => runCommand('ip', ['netns', 'exec', ns, cmd, ...args], input);

/** Namespaces of earlier runs whose process is gone (a crashed test). */
function sweepStale(): void {
  for (const line of sh(['ip', 'netns', 'list']).split('\n')) {
    const m = /^(cxr(\d+)[lhp]\d*)\b/.exec(line);
    if (!m) continue;
    let alive = true;
    try {
      process.kill(Number(m[2]), 0);
    } catch {
      alive = false;
    }
    if (!alive || Number(m[2]) === process.pid) sh(['ip', 'netns', 'del', m[1]]);
  }
}

function deleteNamespaces(): void {
  for (const ns of [...hosts.flatMap((h) => [h.pod, h.ns]), LAN]) {
    try {
      sh(['ip', 'netns', 'del', ns]);
    } catch {
      // already gone
    }
  }
}

/** A node script in namespace `ns`; resolves with its stdout, rejects with its stderr. */
function nodeIn(ns: string, script: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${ns}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

/** What the TCP server in a pod answers: the address it sees the client connect from. */
function whoAmI(fromNs: string, ip: string): Promise<string> {
  const script = `const s = require('net').connect(8080, ${JSON.stringify(ip)}); let out = '';
s.setTimeout(2000, () => { console.error('timeout'); process.exit(3); });
s.on('data', (d) => (out += d)); s.on('end', () => { process.stdout.write(out); process.exit(0); });
s.on('error', (e) => { console.error(e.message); process.exit(2); });`;
  return nodeIn(fromNs, script).then((s) => s.trim());
}

/** Coxswain's routes in `ns` (without blocking: the route sync under test runs in this process). */
async function ourRoutes(ns: string): Promise<{ dst: string; gateway?: string }[]> {
  return JSON.parse((await runCommand('ip', ['-n', ns, '-j', '-4', 'route', 'show', 'proto', '147'])) || '[]') as { dst: string; gateway?: string }[];
}

async function hasRoute(ns: string, dst: string, gateway?: string): Promise<boolean> {
  return (await ourRoutes(ns)).some((r) => r.dst === dst && (gateway === undefined || r.gateway === gateway));
}

function networkCondition(node: Node): { status?: string; reason?: string; message?: string } | undefined {
  return node.status?.conditions?.find((c) => c.type === 'NetworkUnavailable');
}

let cp: ControlPlane;
const managers = new Map<string, NodeManager>();
const routes: NodeRoutes[] = [];
const recorders: EventRecorder[] = [];
const servers: ChildProcess[] = [];
// The route changes, one line each, with COXSWAIN_LOG_LEVEL=info.
const log = pino({ name: 'host-gw-test', level: process.env.COXSWAIN_LOG_LEVEL ?? 'warn' });

before(async () => {
  sweepStale();
  // The LAN: a bridge in its own namespace; each host's eth0 is a veth into it.
  sh(['ip', 'netns', 'add', LAN]);
  sh(['ip', '-n', LAN, 'link', 'add', 'br0', 'type', 'bridge']);
  sh(['ip', '-n', LAN, 'link', 'set', 'br0', 'up']);
  for (const h of hosts) {
    sh(['ip', 'netns', 'add', h.ns]);
    sh(['ip', 'netns', 'add', h.pod]);
    sh(['ip', '-n', LAN, 'link', 'add', `e${h.i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns]);
    sh(['ip', '-n', LAN, 'link', 'set', `e${h.i}`, 'master', 'br0', 'up']);
    sh(['ip', '-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
    sh(['ip', '-n', h.ns, 'link', 'set', 'eth0', 'up']);
    sh(['ip', '-n', h.ns, 'link', 'set', 'lo', 'up']);
    // As on a host running Docker: nothing is forwarded unless a rule accepts it.
    sh(['ip', 'netns', 'exec', h.ns, 'iptables', '-w', '-P', 'FORWARD', 'DROP']);
    // The kubelet's own pod bridge, forwarding and NAT rules, set up in the host's namespace.
    const bridge = (
      await nodeIn(
        h.ns,
        `const { BridgePodNetwork } = require(${JSON.stringify(path.join(DIST, 'kubelet/pod-network.js'))});
const net = new BridgePodNetwork('coxswain-${h.name}', require('pino')({ level: 'silent' }), { clusterCIDR: ${JSON.stringify(CLUSTER_CIDR)} });
net.ensure(${JSON.stringify(h.podCIDR)}).then(() => console.log(net.bridge), (e) => { console.error(e.message); process.exit(1); });`,
      )
    ).trim();
    // The pod stand-in: a namespace wired to the bridge as the kubelet wires a sandbox.
    sh(['ip', '-n', h.ns, 'link', 'add', `v${h.i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.pod]);
    sh(['ip', '-n', h.ns, 'link', 'set', `v${h.i}`, 'master', bridge, 'up']);
    sh(['ip', '-n', h.pod, 'addr', 'add', `${h.podIP}/24`, 'dev', 'eth0']);
    sh(['ip', '-n', h.pod, 'link', 'set', 'eth0', 'up']);
    sh(['ip', '-n', h.pod, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', h.pod, 'route', 'add', 'default', 'via', `10.244.${h.i}.1`]);
    // A TCP server in the pod (and one on the host) that answers with the address the client came from.
    for (const ns of [h.pod, h.ns]) {
      const server = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', "require('net').createServer((s) => s.end(s.remoteAddress + '\\n')).listen(8080, '0.0.0.0', () => console.log('listening'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.stdout!.once('data', () => resolve());
        server.once('exit', (code) => reject(new Error(`server in ${ns} exited ${code}`)));
      });
    }
  }

  cp = await startControlPlane({ store: 'etcd' });
  for (const h of hosts) {
    const client = ApiClient.fromKubeconfig(cp.componentKubeconfig('kubelet'));
    const facts = { name: h.name, ip: h.ip, hostname: h.name, cpus: 1, memoryBytes: 1 << 30, storageBytes: 0, maxPods: 10, runtimeVersion: 'none', osImage: 'test', kernelVersion: 'test', arch: process.arch };
    const node = new NodeManager(client, facts, log.child({ node: h.name }));
    await node.register();
    // What the controllers' node IPAM does.
    await cp.client.patch(NODES, h.name, { spec: { podCIDR: h.podCIDR, podCIDRs: [h.podCIDR] } });
    managers.set(h.name, node);
    const events = new EventRecorder(client, 'kubelet', { host: h.name });
    recorders.push(events);
    const r = new NodeRoutes({ client, nodeName: h.name, nodeIP: h.ip, node, events, log: log.child({ node: h.name, part: 'routes' }), run: inNs(h.ns), periodMs: 1_000 });
    routes.push(r);
    await r.start();
  }
});

after(async () => {
  for (const r of routes) await r.stop();
  for (const e of recorders) await e.flush();
  for (const s of servers) s.kill();
  await cp?.stop();
  deleteNamespaces();
});

test('each host routes the other host\'s podCIDR via its node IP, and both Nodes report RouteCreated', async () => {
  for (const [h, peer] of [[hosts[0], hosts[1]], [hosts[1], hosts[0]]]) {
    await waitFor(`${h.ns}: route to ${peer.podCIDR}`, () => hasRoute(h.ns, peer.podCIDR, peer.ip));
    const cond = await waitFor(`${h.name} NetworkUnavailable=False`, async () => {
      const c = networkCondition(await cp.client.get<Node & Record<string, unknown>>(NODES, h.name));
      return c?.status === 'False' && c;
    });
    assert.equal(cond.reason, 'RouteCreated');
  }
});

test('pod → pod across hosts by IP, the receiver sees the sender\'s own pod IP (no NAT); node → remote pod works', async () => {
  const [h1, h2] = hosts;
  assert.equal(await waitFor('p1 → p2', () => whoAmI(h1.pod, h2.podIP), 10_000), h1.podIP);
  assert.equal(await whoAmI(h2.pod, h1.podIP), h2.podIP);
  // The userspace proxy dials endpoints on other hosts from the node itself.
  assert.equal(await whoAmI(h1.ns, h2.podIP), h1.ip);
  // Leaving the cluster CIDR is still masqueraded: h2 sees pod p1 as host h1.
  assert.equal(await whoAmI(h1.pod, h2.ip), h1.ip);
});

test('a route deleted by hand comes back with the next periodic pass', async () => {
  const [h1, h2] = hosts;
  sh(['ip', '-n', h1.ns, 'route', 'del', h2.podCIDR]);
  await waitFor('route restored', () => hasRoute(h1.ns, h2.podCIDR), 10_000);
});

test('a Node appearing gets its route on every host; the time it takes', async (t) => {
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const name = `extra${k}`;
    const cidr = `10.244.${50 + k}.0/24`;
    const start = performance.now();
    await cp.client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDR: cidr, podCIDRs: [cidr] }, status: { addresses: [{ type: 'InternalIP', address: `10.233.0.${50 + k}` }] } } as Node & Record<string, unknown>);
    await waitFor(`route to ${cidr} on both hosts`, async () => (await Promise.all(hosts.map((h) => hasRoute(h.ns, cidr)))).every(Boolean), 10_000, 20);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  t.diagnostic(`Node created → route on both hosts: median ${times[2].toFixed(0)} ms, max ${times[4].toFixed(0)} ms`);
  for (let k = 0; k < 5; k++) await cp.client.delete(NODES, `extra${k}`);
  await waitFor('routes of deleted Nodes removed', async () => (await Promise.all(hosts.map(async (h) => (await ourRoutes(h.ns)).some((r) => r.dst.startsWith('10.244.5'))))).every((x) => !x), 10_000);
});

test('a peer off this L2 segment: NetworkUnavailable True naming it, and an event; deleting it recovers', async () => {
  const far = { name: 'far', ip: '10.234.0.13', podCIDR: '10.244.3.0/24' };
  await cp.client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: far.name }, spec: { podCIDR: far.podCIDR, podCIDRs: [far.podCIDR] }, status: { addresses: [{ type: 'InternalIP', address: far.ip }] } } as Node & Record<string, unknown>);
  for (const h of hosts) {
    const cond = await waitFor(`${h.name} NetworkUnavailable=True`, async () => {
      const c = networkCondition(await cp.client.get<Node & Record<string, unknown>>(NODES, h.name));
      return c?.status === 'True' && c;
    });
    assert.equal(cond.reason, 'NoRouteCreated');
    assert.match(cond.message ?? '', /node far's pods 10\.244\.3\.0\/24 via 10\.234\.0\.13: .*gateway/);
    assert.ok(!(await hasRoute(h.ns, far.podCIDR)), 'no half-made route');
  }
  const ev = await waitFor('NoRouteCreated event on n1', async () => {
    const list = await cp.client.list<Event & Record<string, unknown>>(EVENTS, { namespace: 'default' });
    return list.items.find((e) => e.reason === 'NoRouteCreated' && e.involvedObject?.name === 'n1');
  });
  assert.equal(ev.type, 'Warning');
  assert.match(ev.message ?? '', /node far/);
  // The healthy routes stay meanwhile: no black hole for the peers that work.
  assert.equal(await whoAmI(hosts[0].pod, hosts[1].podIP), hosts[0].podIP);

  await cp.client.delete(NODES, far.name);
  for (const h of hosts) {
    await waitFor(`${h.name} NetworkUnavailable=False again`, async () => networkCondition(await cp.client.get<Node & Record<string, unknown>>(NODES, h.name))?.status === 'False');
  }
});

test('a Ready peer on the segment that does not answer ARP: NetworkUnavailable True on the node that tried it', async () => {
  const ghost = { name: 'ghost', ip: '10.233.0.99', podCIDR: '10.244.99.0/24' };
  await cp.client.create(NODES, {
    apiVersion: 'v1', kind: 'Node', metadata: { name: ghost.name }, spec: { podCIDR: ghost.podCIDR, podCIDRs: [ghost.podCIDR] },
    status: { addresses: [{ type: 'InternalIP', address: ghost.ip }], conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
  } as Node & Record<string, unknown>);
  const [h1] = hosts;
  await waitFor('route to the ghost', () => hasRoute(h1.ns, ghost.podCIDR, ghost.ip));
  // A pod on h1 tries a pod of the ghost node: the host's ARP for the gateway goes unanswered.
  await assert.rejects(whoAmI(h1.pod, '10.244.99.2'));
  const cond = await waitFor('n1 NetworkUnavailable=True (PeerUnreachable)', async () => {
    const c = networkCondition(await cp.client.get<Node & Record<string, unknown>>(NODES, h1.name));
    return c?.status === 'True' && c;
  }, 15_000);
  assert.equal(cond.reason, 'PeerUnreachable');
  assert.match(cond.message ?? '', /node ghost's pods 10\.244\.99\.0\/24 via 10\.233\.0\.99: 10\.233\.0\.99 does not answer ARP/);
  await cp.client.delete(NODES, ghost.name);
  await waitFor('n1 NetworkUnavailable=False again', async () => networkCondition(await cp.client.get<Node & Record<string, unknown>>(NODES, h1.name))?.status === 'False');
});

test('deleting a Node removes its route from the other hosts', async () => {
  const [h1, h2] = hosts;
  managers.get(h2.name)!.stop();
  await cp.client.delete(NODES, h2.name);
  await waitFor(`${h1.ns}: route to ${h2.podCIDR} removed`, async () => !(await hasRoute(h1.ns, h2.podCIDR)), 10_000);
  await assert.rejects(whoAmI(h1.pod, h2.podIP));
});
