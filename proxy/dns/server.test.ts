import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Packet, RecordType } from 'dns-packet';
import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ClusterDns } from './cluster-dns';
import { DnsMetrics } from './metrics';

// A real server on loopback, fed objects as the informers would, with a small upstream of its own.
const registry = new Registry();
let dns: ClusterDns;
let port: number;
let upstream: dgram.Socket;

before(async () => {
  upstream = dgram.createSocket('udp4');
  upstream.on('message', (msg, r) => {
    const q = dnsPacket.decode(msg);
    const answers = q.questions![0]!.name === 'example.org' ? [{ name: 'example.org', type: 'A' as const, ttl: 60, data: '192.0.2.7' }] : [];
    upstream.send(dnsPacket.encode({ type: 'response', id: q.id, flags: 0x80 | (answers.length ? 0 : 3), questions: q.questions, answers }), r.port, r.address);
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', r));
  const free = net.createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
  port = (free.address() as net.AddressInfo).port;
  await new Promise<void>((r) => free.close(() => r()));
  dns = new ClusterDns({
    logger: pino({ level: 'silent' }),
    domain: 'cluster.local',
    upstreams: [{ host: '127.0.0.1', port: upstream.address().port }],
    metrics: new DnsMetrics(registry),
    service: { namespace: 'kube-system', name: 'kube-dns' },
    bindAddress: '127.0.0.1',
    port,
    upstreamTimeoutMs: 500,
  });
  dns.upsertService({ metadata: { namespace: 'default', name: 'hello' }, spec: { clusterIP: '10.96.0.20' } } as Service);
  dns.upsertService({ metadata: { namespace: 'default', name: 'many' }, spec: { clusterIP: 'None' } } as Service);
  dns.upsertEndpoints({ metadata: { namespace: 'default', name: 'many' }, subsets: [{ addresses: Array.from({ length: 60 }, (_, i) => ({ ip: `10.244.1.${i + 1}` })) }] } as Endpoints);
  const deadline = Date.now() + 5_000;
  while (!dns.listening && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(dns.listening, 'cluster DNS listens');
});

after(async () => {
  await dns?.stop();
  upstream?.close();
});

function udpRaw(msg: Buffer, timeoutMs = 1_000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, port, '127.0.0.1');
  });
}

const query = (name: string, type: RecordType, edns?: number): Packet => ({
  type: 'query',
  id: Math.floor(Math.random() * 65535),
  flags: dnsPacket.RECURSION_DESIRED,
  questions: [{ name, type, class: 'IN' }],
  additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
});

async function udp(name: string, type: RecordType, edns?: number) {
  const q = query(name, type, edns);
  const out = await udpRaw(dnsPacket.encode(q));
  assert.ok(out, `an answer to ${name}`);
  const p = dnsPacket.decode(out) as dnsPacket.DecodedPacket & { rcode: string };
  assert.equal(p.id, q.id);
  return { p, size: out.length };
}

function tcp(name: string, type: RecordType) {
  return new Promise<dnsPacket.DecodedPacket & { rcode: string }>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    s.on('connect', () => s.write(dnsPacket.streamEncode(query(name, type))));
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.destroy();
        resolve(dnsPacket.decode(buf.subarray(2)) as dnsPacket.DecodedPacket & { rcode: string });
      }
    });
    s.on('error', reject);
  });
}

test('UDP and TCP answers for a Service', async () => {
  const { p } = await udp('hello.default.svc.cluster.local', 'A');
  assert.equal(p.rcode, 'NOERROR');
  assert.ok(p.flag_aa && p.flag_rd && p.flag_ra);
  assert.deepEqual(p.answers!.map((a) => 'data' in a && a.data), ['10.96.0.20']);
  const t = await tcp('hello.default.svc.cluster.local', 'A');
  assert.deepEqual(t.answers!.map((a) => 'data' in a && a.data), ['10.96.0.20']);
  const nx = await udp('nope.default.svc.cluster.local', 'A');
  assert.equal(nx.p.rcode, 'NXDOMAIN');
  assert.equal(nx.p.authorities![0]!.type, 'SOA');
});

test('a large answer: truncated over plain UDP, whole within an EDNS size and over TCP', async () => {
  const plain = await udp('many.default.svc.cluster.local', 'A');
  assert.ok(plain.p.flag_tc, 'TC set');
  assert.equal(plain.p.answers!.length, 0);
  assert.ok(plain.size <= 512);
  const edns = await udp('many.default.svc.cluster.local', 'A', 4096);
  assert.ok(!edns.p.flag_tc);
  assert.equal(edns.p.answers!.length, 60);
  const small = await udp('many.default.svc.cluster.local', 'A', 1000);
  assert.ok(small.p.flag_tc && small.size <= 1000);
  const t = await tcp('many.default.svc.cluster.local', 'A');
  assert.equal(t.answers!.length, 60);
});

test('other names go to the upstream resolver; a dead upstream is SERVFAIL', async () => {
  const { p } = await udp('example.org', 'A');
  assert.deepEqual(p.answers!.map((a) => 'data' in a && a.data), ['192.0.2.7']);
  assert.equal((await udp('nothing.example', 'A')).p.rcode, 'NXDOMAIN');
  assert.equal((await tcp('example.org', 'A')).rcode, 'SERVFAIL', 'this upstream speaks no TCP');
});

test('malformed messages: FORMERR when the header is readable, dropped otherwise; the server keeps answering', async () => {
  const garbage = Buffer.from('12340100000100000000000003666f6f', 'hex'); // a question that ends mid-name
  const formerr = await udpRaw(garbage);
  assert.ok(formerr);
  assert.equal(formerr.readUInt16BE(0), 0x1234);
  assert.equal(formerr.readUInt16BE(2) & 0xf, 1, 'FORMERR');
  assert.equal(await udpRaw(Buffer.from([1, 2, 3]), 300), undefined, 'a short message is dropped');
  const two = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'a.b', type: 'A' }, { name: 'c.d', type: 'A' }] });
  assert.equal((await udpRaw(two))!.readUInt16BE(2) & 0xf, 1, 'two questions: FORMERR');
  assert.equal((await udp('hello.default.svc.cluster.local', 'A')).p.rcode, 'NOERROR');
  const text = await registry.metrics();
  assert.match(text, /coxswain_proxy_dns_malformed_total\{protocol="udp"\} [3-9]/);
  assert.match(text, /coxswain_proxy_dns_responses_total\{protocol="udp",zone="cluster",rcode="NXDOMAIN"\} 1/);
  assert.match(text, /coxswain_proxy_dns_truncated_total 2/);
});
