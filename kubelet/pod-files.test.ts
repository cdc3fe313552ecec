import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { parseResolvConf, podDnsType, resolvConfContent } from './pod-files';

const node = parseResolvConf('nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n');
const cluster = { servers: ['10.96.0.10'], domain: 'cluster.local' };
const pod = (spec: Partial<Pod['spec']> = {}): Pod => ({ metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [], ...spec } });

test('dnsPolicy → resolv.conf, as Kubernetes’ kubelet writes it', () => {
  const cases: [string, Pod, string][] = [
    ['ClusterFirst (the default)', pod(), 'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:5\n'],
    ['ClusterFirst on the host network is Default', pod({ hostNetwork: true }), 'nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n'],
    ['ClusterFirstWithHostNet', pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), 'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:5\n'],
    ['ClusterFirstWithHostNet off the host network is ClusterFirst', pod({ dnsPolicy: 'ClusterFirstWithHostNet' }), 'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:5\n'],
    ['Default drops the node’s loopback servers', pod({ dnsPolicy: 'Default' }), 'nameserver 10.0.0.2\nsearch corp.example\noptions edns0\n'],
    [
      'ClusterFirst + dnsConfig: appended, options merged by name',
      pod({ dnsConfig: { nameservers: ['1.1.1.1', '10.96.0.10'], searches: ['x.example', 'cluster.local'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }),
      'nameserver 10.96.0.10\nnameserver 1.1.1.1\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example x.example\noptions ndots:2 edns0\n',
    ],
    ['None + dnsConfig', pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['a.example'] } }), 'nameserver 1.1.1.1\nsearch a.example\n'],
  ];
  for (const [name, p, want] of cases) assert.equal(resolvConfContent(p, node, cluster), want, name);
});

test('no cluster DNS configured: ClusterFirst falls back to Default, and says so', () => {
  assert.deepEqual(podDnsType(pod(), undefined), { type: 'Host', missing: true });
  assert.deepEqual(podDnsType(pod({ dnsPolicy: 'Default' }), undefined), { type: 'Host', missing: false });
  assert.deepEqual(podDnsType(pod({ hostNetwork: true }), undefined), { type: 'Host', missing: false });
  assert.equal(resolvConfContent(pod(), node, undefined), 'nameserver 10.0.0.2\nsearch corp.example\noptions edns0\n');
});

test('limits: 3 nameservers, 32 search domains', () => {
  const p = pod({ dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3'], searches: Array.from({ length: 40 }, (_, i) => `s${i}.example`) } });
  const out = resolvConfContent(p, node, { servers: ['10.96.0.10'], domain: 'k.test' });
  assert.equal(out.match(/^nameserver /gm)!.length, 3);
  assert.equal(out.split('\n').find((l) => l.startsWith('search '))!.split(' ').length - 1, 32);
  assert.match(out, /^search shop\.svc\.k\.test svc\.k\.test k\.test /m);
});
