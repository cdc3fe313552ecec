import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1';
import { PolicyIndex } from './policy';
import { chainPrefix, desiredRuleset, restoreInput } from './rules';

const pod = (ns: string, name: string, ip: string, nodeName: string, labels: Record<string, string> = {}): Pod => ({
  metadata: { namespace: ns, name, labels },
  spec: { nodeName, containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase: 'Running', podIP: ip },
});
const pods = [pod('a', 'web', '10.244.0.5', 'n1', { app: 'web' }), pod('a', 'cli', '10.244.0.6', 'n1', { app: 'cli' }), pod('b', 'far', '10.244.1.7', 'n2', { app: 'web' })];
const index = (policies: NetworkPolicy[]) => new PolicyIndex({ policies, pods, namespaces: [], nodeIPs: ['192.168.0.2', '192.168.0.1'] });
const P = chainPrefix('n1');

test('chain names: one prefix per node, short enough for iptables', () => {
  assert.match(P, /^CXNP-[0-9a-f]{8}$/);
  assert.notEqual(P, chainPrefix('n2'));
  assert.ok(`${P}-Iffffffff`.length <= 28);
});

test('no policy, or none selecting a local pod: no chains at all', () => {
  assert.equal(desiredRuleset(index([]), 'n1'), undefined);
  const onlyB: NetworkPolicy = { metadata: { namespace: 'b', name: 'deny' }, spec: { podSelector: {} } };
  assert.equal(desiredRuleset(index([onlyB]), 'n1'), undefined, 'b/far is on n2');
  assert.ok(desiredRuleset(index([onlyB]), 'n2'));
});

test('ingress: replies first, node addresses, allowed sources and named ports RETURN, the rest DROPs', () => {
  const np: NetworkPolicy = {
    metadata: { namespace: 'a', name: 'web' },
    spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'cli' } } }], ports: [{ port: 'http' }, { port: 9000, endPort: 9100, protocol: 'UDP' }] }] },
  };
  const r = desiredRuleset(index([np]), 'n1')!;
  const chain = `${P}-I0af40005`;
  assert.deepEqual([...r.chains.keys()], [P, chain]);
  assert.deepEqual(r.chains.get(P), ['-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN', `-d 10.244.0.5/32 -m comment --comment "a/web ingress" -j ${chain}`]);
  assert.deepEqual(r.chains.get(chain), [
    '-s 192.168.0.1/32 -m comment --comment "node traffic" -j RETURN',
    '-s 192.168.0.2/32 -m comment --comment "node traffic" -j RETURN',
    '-s 10.244.0.6/32 -p tcp -m tcp --dport 8080 -m comment --comment "a/web" -j RETURN',
    '-s 10.244.0.6/32 -p udp -m udp --dport 9000:9100 -m comment --comment "a/web" -j RETURN',
    '-j DROP',
  ]);
});

test('egress: destinations with -d, an ipBlock except as blocks; SCTP ports left out', () => {
  const np: NetworkPolicy = {
    metadata: { namespace: 'a', name: 'out' },
    spec: {
      podSelector: { matchLabels: { app: 'cli' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.244.0.0/23', except: ['10.244.0.0/24'] } }] }, { ports: [{ port: 53, protocol: 'UDP' }, { port: 7, protocol: 'SCTP' }] }],
    },
  };
  const r = desiredRuleset(index([np]), 'n1')!;
  const chain = `${P}-E0af40006`;
  assert.deepEqual(r.chains.get(P)?.[1], `-s 10.244.0.6/32 -m comment --comment "a/cli egress" -j ${chain}`);
  assert.deepEqual(r.chains.get(chain), [
    '-d 10.244.1.0/24 -m comment --comment "a/out" -j RETURN',
    '-p udp -m udp --dport 53 -m comment --comment "a/out" -j RETURN',
    '-j DROP',
  ]);
});

test('restoreInput: desired chains declared and filled, stale owned chains emptied and deleted', () => {
  const r = desiredRuleset(index([{ metadata: { namespace: 'a', name: 'deny' }, spec: { podSelector: { matchLabels: { app: 'web' } } } }]), 'n1')!;
  const text = restoreInput(r, [P, `${P}-Edeadbeef`]);
  assert.equal(
    text,
    [
      '*filter',
      `:${P} - [0:0]`,
      `:${P}-I0af40005 - [0:0]`,
      `:${P}-Edeadbeef - [0:0]`,
      `-A ${P} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
      `-A ${P} -d 10.244.0.5/32 -m comment --comment "a/web ingress" -j ${P}-I0af40005`,
      `-A ${P}-I0af40005 -s 192.168.0.1/32 -m comment --comment "node traffic" -j RETURN`,
      `-A ${P}-I0af40005 -s 192.168.0.2/32 -m comment --comment "node traffic" -j RETURN`,
      `-A ${P}-I0af40005 -j DROP`,
      `-X ${P}-Edeadbeef`,
      'COMMIT',
      '',
    ].join('\n'),
  );
  assert.equal(restoreInput(undefined, [P]), ['*filter', `:${P} - [0:0]`, `-X ${P}`, 'COMMIT', ''].join('\n'));
});
