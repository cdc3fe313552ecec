/**
 * Several hosts, end to end (issue 11, acceptance 1): four network namespaces on
 * a private bridge, each with its own dockerd; three run `coxswain server`, one
 * `coxswain agent`, joined by token. Everything a user would check across hosts:
 * joining (and a wrong token refused), pods spread, pod to pod without NAT,
 * Services and NodePorts across hosts, a host cut off and back, the first
 * server cut off.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createBed, type Bed, type BedHost } from './lib/bed';
import { kubectl, runningPods, startNode, stopNode, waitReady, type HostNode } from './lib/multihost';
import { waitFor } from './lib/util';

const canRun = process.getuid?.() === 0 && process.platform === 'linux';

interface PodRow { name: string; node: string; ip: string; phase: string; ready: boolean; deleting: boolean }

describe('several hosts: three servers and an agent', { skip: canRun ? false : 'needs root on Linux (network namespaces, dockerd)', timeout: 20 * 60_000 }, () => {
  let bed: Bed;
  let h: BedHost[];
  const nodes: HostNode[] = [];
  let kc: string; // the admin kubeconfig in use (server 1's, then server 2's)
  let token: string;
  const k = (args: string[], input?: string) => kubectl(kc, args, { input });

  async function pods(selector: string): Promise<PodRow[]> {
    const list = JSON.parse(await k(['get', 'pods', '-l', selector, '-o', 'json'])) as { items: { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status: { podIP?: string; phase?: string; conditions?: { type: string; status: string }[] } }[] };
    return list.items.map((p) => ({
      name: p.metadata.name,
      node: p.spec.nodeName ?? '',
      ip: p.status.podIP ?? '',
      phase: p.status.phase ?? '',
      ready: p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      deleting: Boolean(p.metadata.deletionTimestamp),
    }));
  }

  async function nodeReady(name: string): Promise<string> {
    return (await k(['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).trim();
  }

  /** `wget` from inside a pod (busybox; `timeout` because its -T segfaults). */
  const fetchFrom = async (pod: string, url: string) => (await k(['exec', pod, '--', 'timeout', '5', 'wget', '-qO-', url])).trim();

  before(async () => {
    bed = await createBed({ prefix: 'cxm', hosts: 4 });
    h = bed.hosts;
  });

  after(async () => {
    await Promise.all(nodes.map((n) => stopNode(n).catch(() => undefined)));
    await bed?.destroy();
  });

  it('the first server creates the cluster, its kubeconfig and a join token (0600)', async () => {
    const s1 = startNode(bed, h[0], 'server');
    nodes.push(s1);
    const ready = await waitReady(s1);
    assert.match(ready, new RegExp(`apiserver https://${h[0].ip.replace(/\./g, '\\.')}:6443`));
    kc = s1.kubeconfig;
    assert.match(await readFile(kc, 'utf8'), new RegExp(`server: https://${h[0].ip.replace(/\./g, '\\.')}:6443`));
    token = (await readFile(`${s1.home}/token`, 'utf8')).trim();
    assert.match(token, /^K10[0-9a-f]{64}::[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const { statSync } = await import('node:fs');
    assert.equal(statSync(`${s1.home}/token`).mode & 0o777, 0o600);
  });

  it('a wrong token is refused, saying so, with a non-zero exit and nothing registered', async () => {
    const wrongSecret = token.replace(/\.[a-z0-9]{16}$/, '.0000000000000000');
    const a = startNode(bed, h[3], 'agent', ['--server', `https://${h[0].ip}:6443`, '--token', wrongSecret, '--home', `${h[3].dir}/wrong-home`]);
    const code = await a.exited;
    assert.notEqual(code, 0);
    assert.match(a.errors(), /token was refused.*wrong, expired or deleted/);
    const wrongCa = token.replace(/^K10[0-9a-f]{8}/, 'K1000000000');
    const b = startNode(bed, h[3], 'agent', ['--server', `https://${h[0].ip}:6443`, '--token', wrongCa, '--home', `${h[3].dir}/wrong-home2`]);
    assert.notEqual(await b.exited, 0);
    assert.match(b.errors(), /does not match the token's hash/);
    assert.doesNotMatch(await k(['get', 'nodes', '-o', 'name']), new RegExp(`node/${h[3].name}\\b`));
    assert.equal((await k(['get', 'csr', '-o', 'name'])).trim(), '', 'no CertificateSigningRequest was left');
  });

  it('two servers and an agent join at the same moment; four nodes Ready', async () => {
    const server = `https://${h[0].ip}:6443`;
    const joining = [startNode(bed, h[1], 'server', ['--server', server, '--token', token]), startNode(bed, h[2], 'server', ['--server', server, '--token', token]), startNode(bed, h[3], 'agent', ['--server', server, '--token', token])];
    nodes.push(...joining);
    await Promise.all(joining.map((n) => waitReady(n)));
    await waitFor('4 Ready nodes', async () => {
      for (const x of h) if ((await nodeReady(x.name)) !== 'True') return false;
      return true;
    }, 60_000, 500);
    // the store has three members, all started
    const members = await k(['get', '--raw', '/readyz?verbose']);
    assert.match(members, /ok/);
  });

  it('Deployment pods spread over the hosts', async () => {
    await k(['apply', '-f', '-'], WEB);
    await waitFor('8 web pods Ready', async () => (await pods('app=web')).filter((p) => p.ready).length === 8, 120_000, 500);
    const hosts = new Set((await pods('app=web')).map((p) => p.node));
    assert.ok(hosts.size >= 3, `pods on ${[...hosts].join(', ')}`);
  });

  it("pod to pod across hosts by IP: the receiver sees the sender's own IP", async () => {
    const web = await pods('app=web');
    const target = web.find((p) => p.node === h[1].name) ?? web[0];
    await k(['run', 'client', '--image', 'busybox:1.36', '--restart', 'Never', '--overrides', JSON.stringify({ spec: { nodeName: h[3].name === target.node ? h[2].name : h[3].name } }), '--', 'sleep', '3600']);
    await waitFor('client pod Running', async () => (await k(['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}'])) === 'Running', 60_000, 300);
    const clientIP = (await k(['get', 'pod', 'client', '-o', 'jsonpath={.status.podIP}'])).trim();
    const clientNode = (await k(['get', 'pod', 'client', '-o', 'jsonpath={.spec.nodeName}'])).trim();
    assert.notEqual(clientNode, target.node);
    const seen = await waitFor('an answer across hosts', () => fetchFrom('client', `http://${target.ip}:8080/cgi-bin/who`).catch(() => undefined), 30_000, 500);
    const remote = seen.split(' ')[1].replace(/^\[(::ffff:)?|\]$/g, ''); // busybox httpd: [::ffff:a.b.c.d]
    assert.equal(remote, clientIP, `the web pod saw ${remote}, the client is ${clientIP}`);
  });

  it('a ClusterIP reaches endpoints on other hosts; a NodePort answers on every node IP', async () => {
    const ip = (await k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const web = await pods('app=web');
    const clientNode = (await k(['get', 'pod', 'client', '-o', 'jsonpath={.spec.nodeName}'])).trim();
    const seenHosts = new Set<string>();
    await waitFor('answers from pods on two other hosts', async () => {
      const [name] = (await fetchFrom('client', `http://${ip}/cgi-bin/who`)).split(' ');
      const pod = web.find((p) => p.name === name);
      if (pod && pod.node !== clientNode) seenHosts.add(pod.node);
      return seenHosts.size >= 2;
    }, 60_000, 50);
    const nodePort = (await k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).trim();
    for (const x of h) {
      const answer = await waitFor(`NodePort on ${x.ip}`, () => fetchFrom('client', `http://${x.ip}:${nodePort}/cgi-bin/who`).catch(() => undefined), 30_000, 300);
      assert.match(answer, /^web-/);
    }
  });

  it('a host cut off: NotReady, its pods replaced elsewhere, writes still accepted; restored: Ready, no pod twice, stale containers gone', async () => {
    const victim = h[2]; // a server: the store keeps a quorum of two
    const before = (await pods('app=web')).filter((p) => p.node === victim.name);
    assert.ok(before.length > 0, 'the victim runs web pods');
    const t0 = Date.now();
    await bed.cut(victim);
    await waitFor(`${victim.name} not Ready`, async () => (await nodeReady(victim.name)) !== 'True', 30_000, 250);
    const notReadyS = (Date.now() - t0) / 1000;
    await k(['create', 'configmap', 'written-while-cut', '--from-literal=a=b']);
    await waitFor('8 web pods Ready elsewhere', async () => (await pods('app=web')).filter((p) => p.ready && !p.deleting && p.node !== victim.name).length === 8, 60_000, 250);
    const replacedS = (Date.now() - t0) / 1000;
    process.stdout.write(`# cut: NotReady after ${notReadyS.toFixed(1)} s, pods Ready elsewhere after ${replacedS.toFixed(1)} s\n`);
    for (const p of before) {
      const now = (await pods('app=web')).find((x) => x.name === p.name);
      assert.ok(!now || now.deleting, `${p.name} on the cut host is Terminating or gone`);
    }
    await bed.restore(victim);
    await waitFor(`${victim.name} Ready again`, async () => (await nodeReady(victim.name)) === 'True', 60_000, 250);
    await waitFor('the cut host\'s old pods gone from the API', async () => {
      const names = new Set((await pods('app=web')).map((p) => p.name));
      return before.every((p) => !names.has(p.name));
    }, 60_000, 500);
    await waitFor('their containers gone from the host', async () => {
      const running = await runningPods(victim);
      return before.every((p) => !running.has(`default/${p.name}`));
    }, 60_000, 500);
    // no pod runs twice: each pod name on one host only
    const where = new Map<string, string[]>();
    for (const x of h) for (const name of (await runningPods(x)).keys()) where.set(name, [...(where.get(name) ?? []), x.name]);
    for (const [name, hosts] of where) assert.equal(hosts.length, 1, `${name} runs on ${hosts.join(', ')}`);
  });

  it('the first server cut off: the other two keep serving and scheduling', async () => {
    kc = nodes.find((n) => n.host === h[1] && n.role === 'server')!.kubeconfig;
    await bed.cut(h[0]);
    await waitFor('the API answering through server 2', () => k(['get', 'nodes']).catch(() => undefined), 30_000, 250);
    await k(['create', 'deployment', 'after-cut', '--image', 'busybox:1.36', '--replicas', '2', '--', 'sleep', '3600']);
    await waitFor('after-cut pods Running on live hosts', async () => {
      const p = await pods('app=after-cut');
      return p.length === 2 && p.every((x) => x.phase === 'Running' && x.node !== h[0].name);
    }, 90_000, 500);
    await bed.restore(h[0]);
  });
});

const WEB = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 8
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 3
      containers:
      - name: web
        image: busybox:1.36
        command: [sh, -c]
        args:
        - |
          mkdir -p /www/cgi-bin
          printf '#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n"\\necho "$(hostname) $REMOTE_ADDR"\\n' > /www/cgi-bin/who
          chmod +x /www/cgi-bin/who
          exec httpd -f -p 8080 -h /www
        ports: [{ containerPort: 8080 }]
        readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`;
