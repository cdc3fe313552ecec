import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseUpstream } from './forward';
import { dnsUpstreams } from './upstreams';

test('--dns-upstream values', () => {
  assert.deepEqual(parseUpstream('1.1.1.1'), { host: '1.1.1.1', port: 53 });
  assert.deepEqual(parseUpstream('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
  assert.deepEqual(parseUpstream('[::1]:5353'), { host: '::1', port: 5353 });
  assert.deepEqual(parseUpstream('fd00::53'), { host: 'fd00::53', port: 53 });
  assert.throws(() => parseUpstream('dns.example'), /--dns-upstream: "dns.example" is not an IP address/);
  assert.throws(() => parseUpstream('1.1.1.1:99999'), /--dns-upstream/);
});

test('default upstreams: the node’s resolv.conf nameservers, never the cluster DNS itself', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dns-upstreams-'));
  const f = path.join(dir, 'resolv.conf');
  await writeFile(f, '# x\nnameserver 10.96.0.10\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nsearch a.example\n');
  assert.deepEqual(await dnsUpstreams(undefined, '10.96.0.10', [f]), [{ host: '192.0.2.53', port: 53 }, { host: 'fe80::1', port: 53 }]);
  assert.deepEqual(await dnsUpstreams('127.0.0.1:5353,9.9.9.9', '10.96.0.10', [f]), [{ host: '127.0.0.1', port: 5353 }, { host: '9.9.9.9', port: 53 }]);
  assert.deepEqual(await dnsUpstreams(undefined, undefined, [path.join(dir, 'missing')]), []);
});
