import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1';
import { networkCondition, planRoutes, unansweredPeers, type HostRoute, type RoutePlan } from './routes';

function node(name: string, podCIDR?: string, ip?: string): Node {
  return { metadata: { name }, spec: podCIDR ? { podCIDR } : {}, status: ip ? { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] } : {} };
}

const connected: HostRoute = { dst: '10.0.0.0/24', dev: 'eth0', protocol: 'kernel' };
const ours = (dst: string, gateway: string): HostRoute => ({ dst, gateway, dev: 'eth0', protocol: '147' });

const cases: { name: string; nodes: Node[]; current: HostRoute[]; want: Partial<RoutePlan> }[] = [
  {
    name: 'a route per other node, none to itself',
    nodes: [node('n1', '10.244.1.0/24', '10.0.0.1'), node('n2', '10.244.2.0/24', '10.0.0.2'), node('n3', '10.244.3.0/24', '10.0.0.3')],
    current: [connected],
    want: {
      replace: [{ dst: '10.244.2.0/24', gateway: '10.0.0.2', node: 'n2' }, { dst: '10.244.3.0/24', gateway: '10.0.0.3', node: 'n3' }],
      remove: [],
      skipped: [],
    },
  },
  {
    name: 'routes in place: nothing to do',
    nodes: [node('n1', '10.244.1.0/24', '10.0.0.1'), node('n2', '10.244.2.0/24', '10.0.0.2')],
    current: [connected, ours('10.244.2.0/24', '10.0.0.2')],
    want: { replace: [], remove: [] },
  },
  {
    name: 'a node whose IP changed: replaced; a node deleted: its route removed',
    nodes: [node('n1', '10.244.1.0/24', '10.0.0.1'), node('n2', '10.244.2.0/24', '10.0.0.9')],
    current: [connected, ours('10.244.2.0/24', '10.0.0.2'), ours('10.244.3.0/24', '10.0.0.3')],
    want: { replace: [{ dst: '10.244.2.0/24', gateway: '10.0.0.9', node: 'n2' }], remove: [ours('10.244.3.0/24', '10.0.0.3')] },
  },
  {
    name: 'a podCIDR changed: the new one routed, the old one removed',
    nodes: [node('n1', '10.244.1.0/24', '10.0.0.1'), node('n2', '10.244.7.0/24', '10.0.0.2')],
    current: [ours('10.244.2.0/24', '10.0.0.2')],
    want: { replace: [{ dst: '10.244.7.0/24', gateway: '10.0.0.2', node: 'n2' }], remove: [ours('10.244.2.0/24', '10.0.0.2')] },
  },
  {
    name: 'nodes not ready to route, and nodes on this host, are skipped with a reason',
    nodes: [
      node('n1', '10.244.1.0/24', '10.0.0.1'),
      node('fresh', undefined, '10.0.0.5'),
      node('noip', '10.244.6.0/24'),
      node('same-host', '10.244.4.0/24', '10.0.0.1'),
      node('loop', '10.244.5.0/24', '127.0.0.1'),
    ],
    current: [],
    want: {
      replace: [],
      skipped: [
        { node: 'fresh', reason: 'no podCIDR yet' },
        { node: 'loop', reason: 'on this host (InternalIP 127.0.0.1): its pods are on a local bridge' },
        { node: 'noip', reason: 'no InternalIP yet' },
        { node: 'same-host', reason: 'on this host (InternalIP 10.0.0.1): its pods are on a local bridge' },
      ],
    },
  },
  {
    name: 'a podCIDR already routed by something else (a bridge of another kubelet here) is left alone',
    nodes: [node('n1', '10.244.1.0/24', '10.0.0.1'), node('n2', '10.244.2.0/24', '10.0.0.2')],
    current: [{ dst: '10.244.2.0/24', dev: 'cxb0123', protocol: 'kernel' }],
    want: { replace: [], remove: [], skipped: [{ node: 'n2', reason: '10.244.2.0/24 is already routed on this host (dev cxb0123, proto kernel)' }] },
  },
  {
    name: 'two nodes claiming one podCIDR: the first by name wins, the other is named',
    nodes: [node('n1', '10.244.1.0/24', '10.0.0.1'), node('b', '10.244.2.0/24', '10.0.0.3'), node('a', '10.244.2.0/24', '10.0.0.2')],
    current: [],
    want: { replace: [{ dst: '10.244.2.0/24', gateway: '10.0.0.2', node: 'a' }], skipped: [{ node: 'b', reason: "podCIDR 10.244.2.0/24 is also node a's" }] },
  },
  {
    name: 'a podCIDR written unnormalized is routed as its network',
    nodes: [node('n1', '10.244.1.0/24', '10.0.0.1'), node('n2', '10.244.2.7/24', '10.0.0.2')],
    current: [ours('10.244.2.0/24', '10.0.0.2')],
    want: { replace: [], remove: [] },
  },
];

for (const c of cases) {
  test(`planRoutes: ${c.name}`, () => {
    const plan = planRoutes({ self: 'n1', selfIP: '10.0.0.1', nodes: c.nodes, current: c.current });
    for (const [k, v] of Object.entries(c.want)) assert.deepEqual(plan[k as keyof RoutePlan], v, k);
  });
}

test('networkCondition: True naming the peer and the error; False when every route is in place', () => {
  const plan = planRoutes({ self: 'n1', selfIP: '10.0.0.1', nodes: [node('n2', '10.244.2.0/24', '10.9.0.2'), node('n3', '10.244.3.0/24', '10.0.0.3')], current: [] });
  const bad = networkCondition(plan, [{ route: plan.wanted[0], error: 'Error: Nexthop has invalid gateway.' }]);
  assert.equal(bad.status, 'True');
  assert.equal(bad.reason, 'NoRouteCreated');
  assert.match(bad.message, /node n2's pods 10\.244\.2\.0\/24 via 10\.9\.0\.2: Error: Nexthop has invalid gateway\./);
  const good = networkCondition(plan, []);
  assert.deepEqual(good, { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated', message: 'routes to the pods of 2 other nodes are in place' });
  assert.equal(networkCondition(planRoutes({ self: 'n1', selfIP: '10.0.0.1', nodes: [], current: [] }), []).message, 'no other node needs a route');
});

test('unansweredPeers: an installed route whose Ready peer failed ARP; not a peer that is down, nor a route not installed', () => {
  const ready = (n: Node): Node => ({ ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'True' }] } });
  const nodes = [ready(node('n2', '10.244.2.0/24', '10.0.0.2')), node('n3', '10.244.3.0/24', '10.0.0.3'), ready(node('n4', '10.244.4.0/24', '10.0.0.4')), ready(node('n5', '10.244.5.0/24', '10.0.0.5'))];
  const plan = planRoutes({ self: 'n1', selfIP: '10.0.0.1', nodes, current: [] });
  const notInstalled = [{ route: plan.wanted.find((w) => w.node === 'n4')!, error: 'Error: Nexthop has invalid gateway.' }];
  const neighbours = [
    { dst: '10.0.0.2', dev: 'eth0', state: ['FAILED'] },
    { dst: '10.0.0.3', dev: 'eth0', state: ['FAILED'] },
    { dst: '10.0.0.4', dev: 'eth0', state: ['FAILED'] },
    { dst: '10.0.0.5', dev: 'eth0', state: ['REACHABLE'] },
  ];
  const got = unansweredPeers(plan, notInstalled, nodes, neighbours);
  assert.deepEqual(got.map((f) => f.route.node), ['n2']);
  const c = networkCondition(plan, got);
  assert.equal(c.reason, 'PeerUnreachable');
  assert.match(c.message, /^route to node n2's pods 10\.244\.2\.0\/24 via 10\.0\.0\.2: 10\.0\.0\.2 does not answer ARP/);
  assert.equal(networkCondition(plan, [...notInstalled, ...got]).reason, 'NoRouteCreated');
});
