/**
 * The proxy's data plane on one `coxswain up` cluster with real pods (two
 * node:20 pods answering their hostname over UDP and TCP): UDP through a
 * ClusterIP from inside a pod and through a NodePort from the host, replies
 * from the Service address; sessionAffinity ClientIP sticking for UDP and TCP;
 * a port taken on the node (Warning event FailedToBind, the rest working, the
 * NodePort coming up once the port is free); and the proxy kill -9'd under
 * load: Services answer again within 2 s, and a Service deleted while it was
 * down leaves no ClusterIP on lo behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Event, Pod, Service } from 'kubernetes-types/core/v1';
import { EVENTS, PODS, SERVICES } from '../lib/resources';
import { waitFor } from './lib/cluster';
import { containersWithLabels, sh } from './lib/docker';
import { coxctl, pickUpPorts, pidsMatching, startUp, tearDownUp, type UpCluster, type UpPorts } from './lib/up';

const NODE = 'udp-node';
const SERVICE_CIDR = '10.171.0.0/16';
const CLUSTER_CIDR = '10.219.0.0/16';
const NODE_PORTS = '30950-30999';
const UDP_NODE_PORT = 30951;
// cluster DNS: the proxy answers on the 10th address of the Service range
const DNS_IP = '10.171.0.10';
const BLOCKED_NODE_PORT = 30990;

// Each pod answers "<hostname>|<request>" on UDP 5353 and "<hostname>" on TCP 8080.
const ECHO = "const h=require('os').hostname();const d=require('dgram').createSocket('udp4');d.on('message',(m,r)=>d.send(h+'|'+m,r.port,r.address));d.bind(5353);require('net').createServer(s=>{s.on('error',()=>{});s.end(h)}).listen(8080)";
// Run inside a pod: n datagrams to ip:port, each from a new socket (a new flow); prints [{msg, from}] as JSON.
const ASK = "const d=require('dgram');const [ip,port,n]=process.argv.slice(1);(async()=>{const out=[];for(let i=0;i<+n;i++){out.push(await new Promise(res=>{const s=d.createSocket('udp4');const t=setTimeout(()=>{s.close();res({msg:'timeout'})},2000);s.on('message',(m,r)=>{clearTimeout(t);s.close();res({msg:String(m),from:r.address+':'+r.port})});s.send('m'+i,+port,ip)}))}console.log(JSON.stringify(out))})()";

const MANIFEST = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: echo
        image: node:20-bookworm-slim
        imagePullPolicy: IfNotPresent
        command: [node, -e, ${JSON.stringify(ECHO)}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  type: NodePort
  selector: {app: echo}
  ports:
  - {name: dns, port: 53, targetPort: 5353, protocol: UDP, nodePort: ${UDP_NODE_PORT}}
  - {name: http, port: 80, targetPort: 8080, protocol: TCP}
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  selector: {app: echo}
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}
  ports:
  - {name: dns, port: 53, targetPort: 5353, protocol: UDP}
  - {name: http, port: 80, targetPort: 8080, protocol: TCP}
`;

/**
 * One datagram from a new socket connected to host:port (so the kernel only accepts a reply from
 * that address, and a closed port fails at once with ECONNREFUSED instead of a timeout).
 */
/** The A records cluster DNS gives for `name` (undefined: no answer in time). */
async function dnsA(name: string, timeoutMs: number): Promise<string[] | undefined> {
  const id = Math.floor(Math.random() * 65535);
  const query = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
  const r = await new Promise<Buffer | undefined>((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => done(undefined), timeoutMs);
    const done = (b: Buffer | undefined) => {
      clearTimeout(t);
      s.removeAllListeners('message');
      try { s.close(); } catch { /* closed already */ }
      resolve(b);
    };
    s.on('message', (m) => done(m));
    s.on('error', () => done(undefined));
    s.send(query, 53, DNS_IP);
  });
  if (!r) return undefined;
  const answer = dnsPacket.decode(r);
  if (answer.id !== id) return undefined;
  return (answer.answers ?? []).flatMap((a) => (a.type === 'A' ? [String(a.data)] : []));
}

function udpAsk(host: string, port: number, msg: string, timeoutMs = 1000): Promise<{ msg: string; from: string } | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    let settled = false;
    const done = (r: { msg: string; from: string } | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(t);
      s.close();
      resolve(r);
    };
    const t = setTimeout(() => done(undefined), timeoutMs);
    s.on('message', (m, r) => done({ msg: m.toString(), from: `${r.address}:${r.port}` }));
    s.on('error', () => done(undefined));
    s.connect(port, host, () => s.send(msg));
  });
}

function tcpAsk(host: string, port: number, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let out = '';
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      resolve(undefined);
    });
    s.on('data', (c) => (out += c));
    s.on('end', () => resolve(out));
    s.on('error', () => resolve(undefined));
  });
}

const onLo = async (ip: string) => (await sh('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'])).includes(` ${ip}/32 `);

describe('proxy data plane: UDP, ClientIP affinity, a taken port, kill -9', { timeout: 5 * 60_000 }, () => {
  let home: string;
  let ports: UpPorts;
  let cluster: UpCluster;
  let pods: Pod[];
  let echoIP: string;
  let stickyIP: string;

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-udp-'));
    ports = await pickUpPorts();
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS, ports });
    await coxctl(cluster.kubeconfig, ['apply', '-f', '-'], MANIFEST);
    const client = cluster.client();
    pods = await waitFor('2 ready echo pods in the Service', async () => {
      const list = ((await client.list(PODS, { namespace: 'default' })) as { items: Pod[] }).items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return list.length === 2 ? list : undefined;
    }, 90_000, 300);
    echoIP = ((await client.get(SERVICES, 'echo', 'default')) as Service).spec!.clusterIP!;
    stickyIP = ((await client.get(SERVICES, 'sticky', 'default')) as Service).spec!.clusterIP!;
    await waitFor('UDP through the echo ClusterIP from the host', async () => (await udpAsk(echoIP, 53, 'ping'))?.msg.endsWith('|ping'), 30_000, 200);
  });

  after(() => tearDownUp(cluster, home, NODE, SERVICE_CIDR));

  it('UDP through the ClusterIP from inside a pod: every flow answered from the ClusterIP, flows spread over both pods', async () => {
    const [ctr] = await containersWithLabels([`io.kubernetes.pod.name=${pods[0]!.metadata!.name}`, 'io.kubernetes.container.name=echo'], false);
    assert.ok(ctr, 'the echo container of a pod');
    const replies = JSON.parse(await sh('docker', ['exec', ctr!, 'node', '-e', ASK, echoIP, '53', '6'], { timeoutMs: 30_000 })) as { msg: string; from: string }[];
    assert.equal(replies.length, 6);
    const names = new Set<string>();
    for (const [i, r] of replies.entries()) {
      assert.match(r.msg, new RegExp(`^echo-\\S+\\|m${i}$`), `reply ${i}: ${r.msg}`);
      assert.equal(r.from, `${echoIP}:53`, 'the reply comes from the Service address');
      names.add(r.msg.split('|')[0]!);
    }
    assert.deepEqual([...names].sort(), pods.map((p) => p.metadata!.name).sort(), 'round robin over flows reaches both pods');
  });

  it('UDP through the NodePort from the host; one client socket stays on one pod; /metrics counts the flows', async () => {
    const s = dgram.createSocket('udp4');
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      s.on('message', (m) => {
        got.push(m.toString());
        if (got.length === 5) resolve();
      });
      for (let i = 0; i < 5; i++) s.send(`n${i}`, UDP_NODE_PORT, '127.0.0.1');
    });
    s.close();
    const name = got[0]!.split('|')[0];
    assert.deepEqual(got.map((g) => g.split('|')[0]), Array(5).fill(name), 'one flow, one backend');
    assert.deepEqual(got.map((g) => g.split('|')[1]).sort(), ['n0', 'n1', 'n2', 'n3', 'n4']);
    const metrics = await new Promise<string>((resolve, reject) =>
      http.get(`http://127.0.0.1:${ports.proxy}/metrics`, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve(b));
      }).on('error', reject),
    );
    assert.match(metrics, /coxswain_proxy_connections_total\{service="default\/echo",port="dns",protocol="UDP"\} [1-9]/);
    assert.match(metrics, /coxswain_proxy_udp_flows_evicted_total 0/);
  });

  it('sessionAffinity ClientIP: every new UDP flow and TCP connection from one client hits one pod; without it both pods answer', async () => {
    const udp: string[] = [];
    const tcp: string[] = [];
    const plain: string[] = [];
    for (let i = 0; i < 12; i++) {
      udp.push((await udpAsk(stickyIP, 53, `s${i}`))!.msg.split('|')[0]!);
      tcp.push((await tcpAsk(stickyIP, 80))!);
      plain.push((await tcpAsk(echoIP, 80))!);
    }
    assert.equal(new Set(udp).size, 1, `UDP: ${udp.join(' ')}`);
    assert.equal(new Set(tcp).size, 1, `TCP: ${tcp.join(' ')}`);
    assert.equal(new Set(plain).size, 2, `no affinity: ${plain.join(' ')}`);
  });

  it('a NodePort taken on the node: Warning FailedToBind on the Service, its ClusterIP works, the NodePort comes up once free', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(BLOCKED_NODE_PORT, '0.0.0.0', r));
    const client = cluster.client();
    try {
      const svc = (await client.create(SERVICES, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'blocked', namespace: 'default' },
        spec: { type: 'NodePort', selector: { app: 'echo' }, ports: [{ port: 80, targetPort: 8080, nodePort: BLOCKED_NODE_PORT }] },
      })) as Service;
      const ev = await waitFor('a FailedToBind event on the Service', async () => {
        const items = ((await client.list(EVENTS, { namespace: 'default' })) as { items: Event[] }).items;
        return items.find((e) => e.involvedObject?.name === 'blocked' && e.reason === 'FailedToBind');
      }, 20_000, 200);
      assert.equal(ev.type, 'Warning');
      assert.match(ev.message ?? '', new RegExp(`TCP 0\\.0\\.0\\.0:${BLOCKED_NODE_PORT}.*EADDRINUSE`));
      assert.match((await waitFor('its ClusterIP to answer', () => tcpAsk(svc.spec!.clusterIP!, 80), 10_000, 100))!, /^echo-/);
      assert.match((await tcpAsk(echoIP, 80))!, /^echo-/, 'other Services still answer');
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    await waitFor('the NodePort to answer once the port is free', async () => /^echo-/.test((await tcpAsk('127.0.0.1', BLOCKED_NODE_PORT)) ?? ''), 40_000, 200);
    await client.delete(SERVICES, 'blocked', { namespace: 'default' });
  });

  it('kill -9 under load: TCP, UDP and cluster DNS answer again within 2 s; a Service deleted meanwhile leaves no ClusterIP on lo', async () => {
    const client = cluster.client();
    const doomed = (await client.create(SERVICES, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'doomed', namespace: 'default' },
      spec: { selector: { app: 'echo' }, ports: [{ port: 80, targetPort: 8080 }] },
    })) as Service;
    const doomedIP = doomed.spec!.clusterIP!;
    await waitFor('the doomed ClusterIP to answer', async () => /^echo-/.test((await tcpAsk(doomedIP, 80)) ?? ''), 15_000, 100);
    assert.match(await sh('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo']), new RegExp(`${doomedIP.replace(/\./g, '\\.')}/32 .*lo:coxswain`), 'ClusterIPs carry the label');

    // Load: TCP and UDP requests back to back, each recording when it last succeeded.
    let stopLoad = false;
    const ok = { tcp: [] as number[], udp: [] as number[], dns: [] as number[] };
    const loop = async (kind: 'tcp' | 'udp' | 'dns') => {
      while (!stopLoad) {
        const good = kind === 'tcp' ? /^echo-/.test((await tcpAsk(echoIP, 80, 300)) ?? '')
          : kind === 'udp' ? !!(await udpAsk(echoIP, 53, 'x', 300))
          : (await dnsA('echo.default.svc.cluster.local', 300))?.[0] === echoIP;
        if (good) ok[kind].push(Date.now());
        else await new Promise((r) => setTimeout(r, 20));
      }
    };
    const loads = [loop('tcp'), loop('tcp'), loop('udp'), loop('dns')];
    await waitFor('load flowing', () => ok.tcp.length > 5 && ok.udp.length > 5 && ok.dns.length > 5, 10_000, 50);

    const pids = pidsMatching('coxswain.js proxy ').filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(home));
    assert.equal(pids.length, 1, 'one proxy process of this cluster');
    const killedAt = Date.now();
    process.kill(pids[0]!, 'SIGKILL');
    await client.delete(SERVICES, 'doomed', { namespace: 'default' });
    const back = await waitFor('TCP, UDP and DNS answering after the kill', () => {
      const t = ok.tcp.find((x) => x > killedAt + 50);
      const u = ok.udp.find((x) => x > killedAt + 50);
      const d = ok.dns.find((x) => x > killedAt + 50);
      return t && u && d ? { tcp: t - killedAt, udp: u - killedAt, dns: d - killedAt } : undefined;
    }, 30_000, 20);
    stopLoad = true;
    await Promise.all(loads);
    const restarted = pidsMatching('coxswain.js proxy ').filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(home));
    assert.equal(restarted.length, 1, 'the supervisor restarted the proxy');
    assert.notEqual(restarted[0], pids[0]);
    console.log(`# proxy kill -9: TCP answered again after ${back.tcp} ms, UDP after ${back.udp} ms, DNS after ${back.dns} ms`);
    assert.ok(back.tcp <= 2000 && back.udp <= 2000 && back.dns <= 2000, `answered again after ${JSON.stringify(back)} ms`);
    await waitFor('the deleted Service’s ClusterIP removed from lo', async () => !(await onLo(doomedIP)), 10_000, 100);
    assert.ok(await onLo(echoIP), 'live Services keep their ClusterIPs');
  });
});
