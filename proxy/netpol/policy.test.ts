import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Namespace, Pod } from 'kubernetes-types/core/v1';
import type { NetworkPolicy, NetworkPolicySpec } from 'kubernetes-types/networking/v1';
import { evaluate, PolicyIndex, policyTypesOf, type Protocol } from './policy';

// A small world in the shape of the upstream policy tests: namespaces x, y, z,
// pods a, b, c in each; pod IPs 10.244.<ns>.<pod>; node 192.168.1.10.
const NS = ['x', 'y', 'z'] as const;
const PODS = ['a', 'b', 'c'] as const;
const ip = (ns: string, pod: string) => `10.244.${NS.indexOf(ns as never) + 1}.${PODS.indexOf(pod as never) + 1}`;
const NODE = '192.168.1.10';

function pod(ns: string, name: string): Pod {
  return {
    metadata: { namespace: ns, name, labels: { pod: name } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i', ports: [{ name: 'serve-80', containerPort: 80 }, { name: 'serve-81-udp', containerPort: 81, protocol: 'UDP' }] }] },
    status: { phase: 'Running', podIP: ip(ns, name) },
  };
}
const namespaces: Namespace[] = NS.map((n) => ({ metadata: { name: n, labels: { ns: n } } }));
const pods: Pod[] = NS.flatMap((n) => PODS.map((p) => pod(n, p)));

const np = (ns: string, name: string, spec: NetworkPolicySpec): NetworkPolicy => ({ metadata: { namespace: ns, name }, spec });

/** Whether `from` (`ns/pod` or an address) may open `proto/port` to `to`. */
function may(policies: NetworkPolicy[], from: string, to: string, port = 80, protocol: Protocol = 'TCP'): boolean {
  const index = new PolicyIndex({ policies, pods, namespaces, nodeIPs: [NODE] });
  const addr = (s: string) => (s.includes('/') ? ip(...(s.split('/') as [string, string])) : s);
  return evaluate(index, { src: addr(from), dst: addr(to), protocol, port }).allowed;
}

/** The verdict for every pod pair into (or out of) one pod, as a compact set of allowed peers. */
function peersInto(policies: NetworkPolicy[], to: string, port = 80, protocol: Protocol = 'TCP'): string[] {
  return NS.flatMap((n) => PODS.map((p) => `${n}/${p}`)).filter((from) => from !== to && may(policies, from, to, port, protocol));
}
function peersFrom(policies: NetworkPolicy[], from: string, port = 80, protocol: Protocol = 'TCP'): string[] {
  return NS.flatMap((n) => PODS.map((p) => `${n}/${p}`)).filter((to) => to !== from && may(policies, from, to, port, protocol));
}
const ALL_BUT = (self: string) => NS.flatMap((n) => PODS.map((p) => `${n}/${p}`)).filter((x) => x !== self);

test('policyTypes default: Ingress always, Egress only when egress rules are given', () => {
  assert.deepEqual(policyTypesOf(np('x', 'p', { podSelector: {} })), { ingress: true, egress: false });
  assert.deepEqual(policyTypesOf(np('x', 'p', { podSelector: {}, egress: [{}] })), { ingress: true, egress: true });
  assert.deepEqual(policyTypesOf(np('x', 'p', { podSelector: {}, egress: [] })), { ingress: true, egress: false });
  assert.deepEqual(policyTypesOf(np('x', 'p', { podSelector: {}, ingress: [{}], policyTypes: ['Egress'] })), { ingress: false, egress: true });
});

test('no policy: everything allowed; a policy isolates only the pods it selects, per direction', () => {
  assert.deepEqual(peersInto([], 'x/a'), ALL_BUT('x/a'));
  const denyA = np('x', 'deny-a', { podSelector: { matchLabels: { pod: 'a' } } });
  assert.deepEqual(peersInto([denyA], 'x/a'), []);
  assert.deepEqual(peersInto([denyA], 'x/b'), ALL_BUT('x/b'), 'x/b is not selected');
  assert.deepEqual(peersFrom([denyA], 'x/a'), ALL_BUT('x/a'), 'an ingress-only policy leaves egress open');
  assert.deepEqual(peersInto([np('y', 'deny-all', { podSelector: {} })], 'x/a'), ALL_BUT('x/a'), 'a policy of another namespace selects nothing here');
});

test('ingress peers: podSelector, namespaceSelector, both, and two peers (OR)', () => {
  const only = (from: NetworkPolicySpec['ingress']) => [np('x', 'p', { podSelector: { matchLabels: { pod: 'a' } }, ingress: from })];
  const cases: [string, NetworkPolicySpec['ingress'], string[]][] = [
    ['allow all', [{}], ALL_BUT('x/a')],
    ['empty from: all', [{ from: [] }], ALL_BUT('x/a')],
    ['podSelector: own namespace only', [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }], ['x/b']],
    ['empty podSelector: the whole own namespace', [{ from: [{ podSelector: {} }] }], ['x/b', 'x/c']],
    ['namespaceSelector: all pods there', [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }], ['y/a', 'y/b', 'y/c']],
    ['empty namespaceSelector: every namespace', [{ from: [{ namespaceSelector: {} }] }], ALL_BUT('x/a')],
    ['metadata.name label', [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'z' } } }] }], ['z/a', 'z/b', 'z/c']],
    ['both in one peer: AND', [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }], ['y/b']],
    ['two peers: OR', [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }, { podSelector: { matchLabels: { pod: 'b' } } }] }], ['x/b', 'y/a', 'y/b', 'y/c']],
    [
      'matchExpressions',
      [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['x'] }] }, podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['a', 'c'] }] } }] }],
      ['y/a', 'y/c', 'z/a', 'z/c'],
    ],
    ['a selector matching nothing', [{ from: [{ podSelector: { matchLabels: { pod: 'none' } } }] }], []],
  ];
  for (const [name, ingress, want] of cases) assert.deepEqual(peersInto(only(ingress), 'x/a'), want, name);
});

test('policies add up: any rule of any policy selecting the pod allows', () => {
  const fromB = np('x', 'from-b', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] });
  const fromY = np('x', 'from-y', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }] });
  assert.deepEqual(peersInto([fromB, fromY], 'x/a'), ['x/b', 'y/a', 'y/b', 'y/c']);
  assert.deepEqual(peersInto([fromB, fromY], 'x/c'), ['x/b']);
});

test('ports: number, range, named, protocol; a named port the pod lacks allows nothing', () => {
  const withPorts = (ports: NonNullable<NetworkPolicySpec['ingress']>[number]['ports']) => [np('x', 'p', { podSelector: {}, ingress: [{ ports }] })];
  const cases: [string, NonNullable<NetworkPolicySpec['ingress']>[number]['ports'], [number, Protocol, boolean][]][] = [
    ['number (TCP by default)', [{ port: 80 }], [[80, 'TCP', true], [81, 'TCP', false], [80, 'UDP', false]]],
    ['UDP', [{ port: 80, protocol: 'UDP' }], [[80, 'TCP', false], [80, 'UDP', true]]],
    ['protocol only: every port', [{ protocol: 'UDP' }], [[1, 'UDP', true], [65535, 'UDP', true], [80, 'TCP', false]]],
    ['endPort range', [{ port: 8000, endPort: 8080 }], [[7999, 'TCP', false], [8000, 'TCP', true], [8080, 'TCP', true], [8081, 'TCP', false]]],
    ['endPort below port: nothing', [{ port: 90, endPort: 80 }], [[80, 'TCP', false], [90, 'TCP', false]]],
    ['named port of the destination pod', [{ port: 'serve-80' }], [[80, 'TCP', true], [81, 'TCP', false]]],
    ['named port, protocol must match', [{ port: 'serve-81-udp', protocol: 'UDP' }], [[81, 'UDP', true], [81, 'TCP', false]]],
    ['named port with the wrong protocol: nothing', [{ port: 'serve-81-udp' }], [[81, 'UDP', false], [81, 'TCP', false]]],
    ['unknown named port: nothing', [{ port: 'nope' }], [[80, 'TCP', false]]],
    ['two ports', [{ port: 80 }, { port: 443 }], [[80, 'TCP', true], [443, 'TCP', true], [444, 'TCP', false]]],
  ];
  for (const [name, ports, checks] of cases) {
    for (const [port, proto, want] of checks) assert.equal(may(withPorts(ports), 'y/a', 'x/a', port, proto), want, `${name}: ${proto}/${port}`);
  }
  // Peers and ports of one rule must both match.
  const both = [np('x', 'p', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }], ports: [{ port: 80 }] }] })];
  assert.equal(may(both, 'x/b', 'x/a', 80), true);
  assert.equal(may(both, 'x/b', 'x/a', 81), false);
  assert.equal(may(both, 'x/c', 'x/a', 80), false);
});

test('egress: isolation, peers as destinations, named ports resolved on each destination pod', () => {
  const egressOnly = np('x', 'deny-egress', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'] });
  assert.deepEqual(peersFrom([egressOnly], 'x/a'), []);
  assert.deepEqual(peersInto([egressOnly], 'x/a'), ALL_BUT('x/a'), 'an egress-only policy leaves ingress open');
  const toY = np('x', 'to-y', { podSelector: { matchLabels: { pod: 'a' } }, egress: [{ to: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }], ports: [{ port: 'serve-80' }] }] });
  assert.deepEqual(peersFrom([toY], 'x/a', 80), ['y/a', 'y/b', 'y/c']);
  assert.deepEqual(peersFrom([toY], 'x/a', 81), []);
  // Egress to a non-pod address: only ipBlocks and open rules reach it; a named port never does.
  assert.equal(may([toY], 'x/a', '8.8.8.8', 80), false);
  const anyNamed = np('x', 'named', { podSelector: { matchLabels: { pod: 'a' } }, egress: [{ ports: [{ port: 'serve-80' }] }] });
  assert.equal(may([anyNamed], 'x/a', 'z/c', 80), true);
  assert.equal(may([anyNamed], 'x/a', '8.8.8.8', 80), false);
});

test('ipBlock with except, for sources and destinations (pod IPs count)', () => {
  const inY = np('x', 'p', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.244.2.0/24', except: ['10.244.2.2/32'] } }] }] });
  assert.deepEqual(peersInto([inY], 'x/a'), ['y/a', 'y/c']);
  assert.equal(may([inY], '10.244.2.200', 'x/a'), true, 'a non-pod address inside the block');
  assert.equal(may([inY], '10.9.9.9', 'x/a'), false);
  const out = np('x', 'e', {
    podSelector: { matchLabels: { pod: 'a' } },
    policyTypes: ['Egress'],
    egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.244.0.0/16'] } }] }],
  });
  assert.equal(may([out], 'x/a', '8.8.8.8', 53, 'UDP'), true);
  assert.deepEqual(peersFrom([out], 'x/a'), [], 'the except covers every pod');
  assert.equal(may([np('x', 'bad', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: 'nonsense' } }] }] })], 'y/a', 'x/a'), false, 'an invalid block matches nothing');
});

test('traffic from a node (or loopback) into a pod is always allowed; from other addresses only by rules', () => {
  const deny = [np('x', 'deny', { podSelector: {} })];
  assert.equal(may(deny, NODE, 'x/a'), true);
  assert.equal(may(deny, '127.0.0.1', 'x/a'), true);
  assert.equal(may(deny, '192.168.1.99', 'x/a'), false);
});

test('egress and ingress both apply to pod-to-pod traffic', () => {
  const xOut = np('x', 'out', { podSelector: {}, egress: [{ to: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }], policyTypes: ['Egress'] });
  const yIn = np('y', 'in', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'a' } }, namespaceSelector: {} }] }] });
  assert.equal(may([xOut, yIn], 'x/a', 'y/b'), true);
  assert.equal(may([xOut, yIn], 'x/b', 'y/b'), false, 'y refuses x/b');
  assert.equal(may([xOut, yIn], 'x/a', 'z/b'), false, 'x may only reach y');
});

test('finished and host-network pods take no part', () => {
  const done: Pod = { ...pod('x', 'done'), status: { phase: 'Succeeded', podIP: '10.244.1.50' } };
  const host: Pod = { ...pod('x', 'host'), spec: { ...pod('x', 'host').spec!, hostNetwork: true }, status: { phase: 'Running', podIP: NODE } };
  const index = new PolicyIndex({ policies: [np('x', 'deny', { podSelector: {} })], pods: [...pods, done, host], namespaces, nodeIPs: [NODE] });
  assert.equal(index.podByIP('10.244.1.50'), undefined);
  assert.equal(index.podByIP(NODE), undefined);
  assert.equal(evaluate(index, { src: ip('y', 'a'), dst: '10.244.1.50', protocol: 'TCP', port: 80 }).allowed, true);
});
