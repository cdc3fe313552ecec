/**
 * The NetworkPolicy chains in a real kernel, without a cluster: a "node"
 * network namespace with a Linux bridge and three "pod" namespaces on veths
 * (as the kubelet wires pods), busybox httpd in each pod. The rules come from
 * `desiredRuleset` over real policy objects and are written by
 * `IptablesNetpol` with the node namespace's iptables; traffic is real TCP
 * across the bridge (bridge-nf-call-iptables on), so this checks the rule
 * syntax, the conntrack reply rule, the jump staying first in FORWARD, and
 * that the chains go away with the last policy.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1';
import { IptablesNetpol, runCommand, type CommandRunner } from '../proxy/netpol/iptables';
import { PolicyIndex } from '../proxy/netpol/policy';
import { chainPrefix, desiredRuleset } from '../proxy/netpol/rules';

const NODE_NS = 'np-node';
const PODS = [
  { ns: 'np-pod-web', name: 'web', ip: '10.99.0.2', labels: { app: 'web' } },
  { ns: 'np-pod-cli', name: 'cli', ip: '10.99.0.3', labels: { app: 'cli' } },
  { ns: 'np-pod-oth', name: 'oth', ip: '10.99.0.4', labels: { app: 'oth' } },
];
const NODE = 'np-test-node';
const servers: ChildProcess[] = [];

const sh = (cmd: string, args: string[]) => runCommand(cmd, args);
const inNode: CommandRunner = (cmd, args, input) => runCommand('ip', ['netns', 'exec', NODE_NS, cmd, ...args], input);

/** Whether pod `from` gets web's page from `to`:8080 within 1 s. */
function reaches(from: string, toIP: string, port = 8080): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', from, 'timeout', '1', 'busybox', 'wget', '-qO-', `http://${toIP}:${port}/`], (err, stdout) => resolve(!err && stdout.trim().length > 0));
  });
}

async function cleanup(): Promise<void> {
  for (const ns of [NODE_NS, ...PODS.map((p) => p.ns)]) await sh('ip', ['netns', 'del', ns]).catch(() => undefined);
}

before(async () => {
  await cleanup();
  await sh('ip', ['netns', 'add', NODE_NS]);
  await inNode('ip', ['link', 'add', 'npbr0', 'type', 'bridge']);
  await inNode('ip', ['addr', 'add', '10.99.0.1/24', 'dev', 'npbr0']);
  await inNode('ip', ['link', 'set', 'npbr0', 'up']);
  await inNode('sysctl', ['-qw', 'net.bridge.bridge-nf-call-iptables=1']);
  const www = mkdtempSync(path.join(os.tmpdir(), 'np-www-'));
  writeFileSync(path.join(www, 'index.html'), 'hello\n');
  for (const [i, p] of PODS.entries()) {
    await sh('ip', ['netns', 'add', p.ns]);
    await sh('ip', ['link', 'add', `npv${i}`, 'netns', NODE_NS, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.ns]);
    await inNode('ip', ['link', 'set', `npv${i}`, 'master', 'npbr0', 'up']);
    await sh('ip', ['netns', 'exec', p.ns, 'ip', 'addr', 'add', `${p.ip}/24`, 'dev', 'eth0']);
    await sh('ip', ['netns', 'exec', p.ns, 'ip', 'link', 'set', 'eth0', 'up']);
    await sh('ip', ['netns', 'exec', p.ns, 'ip', 'link', 'set', 'lo', 'up']);
    servers.push(spawn('ip', ['netns', 'exec', p.ns, 'busybox', 'httpd', '-f', '-p', '8080', '-h', www], { stdio: 'ignore' }));
  }
  for (const p of PODS) for (const q of PODS) if (p !== q) assert.equal(await waitReach(p.ns, q.ip, true), true, `${p.name} → ${q.name} before any rule`);
});

after(async () => {
  for (const s of servers) s.kill('SIGKILL');
  await cleanup();
});

/** Polls (up to 5 s) for the expected reachability; the answer seen last. */
async function waitReach(from: string, to: string, want: boolean, port = 8080): Promise<boolean> {
  const deadline = Date.now() + 5_000;
  let got = !want;
  while (Date.now() < deadline) {
    got = await reaches(from, to, port);
    if (got === want) break;
  }
  return got;
}

const pods: Pod[] = PODS.map((p) => ({
  metadata: { namespace: 'default', name: p.name, labels: p.labels },
  spec: { nodeName: NODE, containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase: 'Running', podIP: p.ip },
}));
const writer = new IptablesNetpol(chainPrefix(NODE), inNode);
const apply = (policies: NetworkPolicy[]) => writer.apply(desiredRuleset(new PolicyIndex({ policies, pods, namespaces: [], nodeIPs: [] }), NODE));

test('ingress allow on a named port lets cli in, keeps oth out; replies to web\'s own connections come back', async () => {
  await apply([
    {
      metadata: { namespace: 'default', name: 'web' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'cli' } } }], ports: [{ port: 'http' }] }] },
    },
  ]);
  assert.equal(await reaches('np-pod-cli', '10.99.0.2'), true);
  assert.equal(await reaches('np-pod-oth', '10.99.0.2'), false);
  assert.equal(await reaches('np-pod-web', '10.99.0.4'), true, 'web is isolated for ingress only, and the reply is ESTABLISHED');
  assert.equal(await writer.jumpIsFirst(), true);
});

test('egress ipBlock except: cli loses web only; a rule inserted ahead of the jump is noticed and the jump put back first', async () => {
  await apply([
    {
      metadata: { namespace: 'default', name: 'cli' },
      spec: { podSelector: { matchLabels: { app: 'cli' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.99.0.0/24', except: ['10.99.0.2/32'] } }] }] },
    },
  ]);
  assert.equal(await reaches('np-pod-cli', '10.99.0.2'), false);
  assert.equal(await reaches('np-pod-cli', '10.99.0.4'), true);
  assert.equal(await reaches('np-pod-oth', '10.99.0.2'), true, 'the web ingress policy is gone, its chain too');
  // What the kubelet does at its start: an accept inserted at the top.
  await inNode('iptables', ['-w', '-I', 'FORWARD', '1', '-i', 'npbr0', '-j', 'ACCEPT']);
  assert.equal(await writer.jumpIsFirst(), false);
  assert.equal(await reaches('np-pod-cli', '10.99.0.2'), true, 'an accept ahead of the jump bypasses the policy');
  await apply([
    {
      metadata: { namespace: 'default', name: 'cli' },
      spec: { podSelector: { matchLabels: { app: 'cli' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.99.0.0/24', except: ['10.99.0.2/32'] } }] }] },
    },
  ]);
  assert.equal(await writer.jumpIsFirst(), true);
  assert.equal(await reaches('np-pod-cli', '10.99.0.2'), false);
});

test('no policy left: every chain and the jump are removed, traffic flows', async () => {
  await apply([]);
  const listing = await inNode('iptables', ['-w', '-S']);
  assert.equal(listing.includes(chainPrefix(NODE)), false, listing);
  assert.equal(await reaches('np-pod-cli', '10.99.0.2'), true);
});
