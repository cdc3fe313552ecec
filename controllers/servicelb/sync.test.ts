import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Node, Service } from 'kubernetes-types/core/v1';
import { firstFree, parseAddressPool, poolContains } from './pool';
import { ENABLE_LB_LABEL, EXCLUDE_LB_LABEL, LB_POOL_LABEL, nodeAddresses, poolHolders, servingNodes, syncService } from './sync';

type Spec = NonNullable<Service['spec']>;
const svc = (name: string, spec: Partial<Spec> = {}, extra: { ingress?: string[]; created?: string; labels?: Record<string, string> } = {}): Service => ({
  metadata: { name, namespace: 'default', creationTimestamp: extra.created ?? '2026-01-01T00:00:00Z', labels: extra.labels },
  spec: { type: 'LoadBalancer', clusterIP: '10.96.0.50', ports: [{ port: 80, nodePort: 30080 }], ...spec },
  status: { loadBalancer: extra.ingress ? { ingress: extra.ingress.map((ip) => ({ ip })) } : {} },
});

interface NodeOpts {
  ready?: boolean;
  unschedulable?: boolean;
  labels?: Record<string, string>;
  taints?: { key: string; effect: string }[];
  external?: string;
  internal?: string;
}
const node = (name: string, o: NodeOpts = {}): Node => ({
  metadata: { name, labels: o.labels },
  spec: { unschedulable: o.unschedulable, taints: o.taints },
  status: {
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    addresses: [
      ...(o.internal !== undefined || !o.external ? [{ type: 'InternalIP', address: o.internal ?? `10.0.0.${name.slice(1)}` }] : []),
      ...(o.external ? [{ type: 'ExternalIP', address: o.external }] : []),
      { type: 'Hostname', address: name },
    ],
  },
});
const eps = (...nodes: (string | undefined)[]): Endpoints => ({
  metadata: { name: 'web', namespace: 'default' },
  subsets: [{ addresses: nodes.map((n, i) => ({ ip: `10.244.0.${i + 2}`, nodeName: n, targetRef: { kind: 'Pod', name: `p${i}` } })), notReadyAddresses: [{ ip: '10.244.9.9', nodeName: 'n3' }], ports: [{ port: 8080 }] }],
});

test('servingNodes: Ready, schedulable, untainted, not excluded; k3s enablelb and lbpool labels; Local: nodes with a ready endpoint', () => {
  const cases: { name: string; svc?: Service; nodes: Node[]; eps?: Endpoints; want: string[] }[] = [
    { name: 'all ready nodes, sorted', nodes: [node('n2'), node('n1')], want: ['n1', 'n2'] },
    { name: 'not Ready, unschedulable, excluded by label left out', nodes: [node('n1', { ready: false }), node('n2', { unschedulable: true }), node('n3', { labels: { [EXCLUDE_LB_LABEL]: '' } }), node('n4')], want: ['n4'] },
    {
      name: 'control-plane and CriticalAddonsOnly taints are tolerated, others are not',
      nodes: [
        node('n1', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
        node('n2', { taints: [{ key: 'CriticalAddonsOnly', effect: 'NoExecute' }] }),
        node('n3', { taints: [{ key: 'dedicated', effect: 'NoSchedule' }] }),
        node('n4', { taints: [{ key: 'dedicated', effect: 'PreferNoSchedule' }] }),
      ],
      want: ['n1', 'n2', 'n4'],
    },
    { name: 'once a node has the enablelb label only "true" ones serve', nodes: [node('n1', { labels: { [ENABLE_LB_LABEL]: 'true' } }), node('n2', { labels: { [ENABLE_LB_LABEL]: 'false' } }), node('n3')], want: ['n1'] },
    {
      name: 'lbpool label on the Service picks nodes of that pool',
      svc: svc('web', {}, { labels: { [LB_POOL_LABEL]: 'edge' } }),
      nodes: [node('n1', { labels: { [ENABLE_LB_LABEL]: 'true', [LB_POOL_LABEL]: 'edge' } }), node('n2', { labels: { [ENABLE_LB_LABEL]: 'true', [LB_POOL_LABEL]: 'core' } })],
      want: ['n1'],
    },
    { name: 'Local: only nodes with a ready pod endpoint', svc: svc('web', { externalTrafficPolicy: 'Local' }), nodes: [node('n1'), node('n2'), node('n3')], eps: eps('n2', 'n2', undefined), want: ['n2'] },
    { name: 'Local without endpoints: none', svc: svc('web', { externalTrafficPolicy: 'Local' }), nodes: [node('n1')], want: [] },
    { name: 'Cluster ignores endpoints', svc: svc('web', { externalTrafficPolicy: 'Cluster' }), nodes: [node('n1'), node('n2')], eps: eps('n2'), want: ['n1', 'n2'] },
  ];
  for (const c of cases) assert.deepEqual(servingNodes(c.svc ?? svc('web'), c.nodes, c.eps), c.want, c.name);
});

test('nodeAddresses: ExternalIPs when any serving node has one, else InternalIPs; IP families; sorted', () => {
  assert.deepEqual(nodeAddresses(svc('web'), [node('n2'), node('n1')], undefined), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(nodeAddresses(svc('web'), [node('n1', { external: '203.0.113.1', internal: '10.0.0.1' }), node('n2')], undefined), ['203.0.113.1']);
  assert.deepEqual(nodeAddresses(svc('web'), [node('n1', { internal: 'fd00::1' }), node('n2')], undefined), ['10.0.0.2']);
  assert.deepEqual(nodeAddresses(svc('web', { ipFamilies: ['IPv6', 'IPv4'] }), [node('n1', { internal: 'fd00::1' }), node('n2')], undefined), ['fd00::1', '10.0.0.2']);
});

test('syncService without a pool: node addresses with ipMode Proxy and the events of each change', () => {
  const nodes = [node('n1'), node('n2')];
  const first = syncService({ service: svc('web'), nodes });
  assert.deepEqual(first.ingress, [{ ip: '10.0.0.1', ipMode: 'Proxy' }, { ip: '10.0.0.2', ipMode: 'Proxy' }]);
  assert.equal(first.changed, true);
  assert.deepEqual(first.events.map((e) => e.reason), ['EnsuringLoadBalancer', 'EnsuredLoadBalancer']);

  const steady = syncService({ service: { ...svc('web'), status: { loadBalancer: { ingress: first.ingress } } }, nodes });
  assert.deepEqual(steady, { ingress: first.ingress, changed: false, events: [] });

  const shrink = syncService({ service: { ...svc('web'), status: { loadBalancer: { ingress: first.ingress } } }, nodes: [node('n1'), node('n2', { ready: false })] });
  assert.deepEqual(shrink.ingress, [{ ip: '10.0.0.1', ipMode: 'Proxy' }]);
  assert.deepEqual(shrink.events, [{ type: 'Normal', reason: 'UpdatedLoadBalancer', message: 'Updated LoadBalancer with new IPs: [10.0.0.1 10.0.0.2] -> [10.0.0.1]' }]);

  const gone = syncService({ service: { ...svc('web'), status: { loadBalancer: { ingress: first.ingress } } }, nodes: [] });
  assert.deepEqual(gone.ingress, []);
  assert.equal(gone.changed, true);
  assert.deepEqual(gone.events, [{ type: 'Warning', reason: 'UnAvailableLoadBalancer', message: 'There are no available nodes for LoadBalancer' }]);
  assert.equal(syncService({ service: svc('web'), nodes: [] }).changed, false, 'still none: nothing to write');
});

test('syncService leaves other classes alone and clears the ingress of a Service that stopped being a LoadBalancer', () => {
  const classed = syncService({ service: svc('web', { loadBalancerClass: 'example.com/lb' }, { ingress: ['1.2.3.4'] }), nodes: [node('n1')] });
  assert.deepEqual(classed, { changed: false, events: [] });
  const notLb = syncService({ service: svc('web', { type: 'ClusterIP' }, { ingress: ['10.0.0.1'] }), nodes: [node('n1')] });
  assert.deepEqual(notLb.ingress, []);
  assert.deepEqual(notLb.events.map((e) => e.reason), ['DeletingLoadBalancer', 'DeletedLoadBalancer']);
  assert.deepEqual(syncService({ service: svc('web', { type: 'NodePort' }), nodes: [node('n1')] }), { changed: false, events: [] });
});

test('parseAddressPool: CIDRs without network and broadcast, ranges, single addresses; errors name the flag', () => {
  const p = parseAddressPool('192.168.50.0/30, 10.0.0.10-10.0.0.11,172.16.0.9,192.168.60.4/32');
  assert.equal(poolContains(p, '192.168.50.0'), false);
  assert.equal(poolContains(p, '192.168.50.1'), true);
  assert.equal(poolContains(p, '192.168.50.3'), false);
  assert.equal(poolContains(p, '10.0.0.11'), true);
  assert.equal(poolContains(p, '172.16.0.9'), true);
  assert.equal(poolContains(p, '192.168.60.4'), true);
  assert.equal(firstFree(p, new Set(['192.168.50.1', '192.168.50.2'])), '10.0.0.10');
  for (const bad of ['', '10.0.0.0/33', '10.0.0.5-10.0.0.1', 'a-b', 'x']) assert.throws(() => parseAddressPool(bad), /--lb-address-pool/, bad);
});

test('pool: one stable address per Service, loadBalancerIP honoured, the older Service wins a double claim, full pool warns', () => {
  const pool = parseAddressPool('192.168.50.10-192.168.50.12');
  const run = (services: Service[], which: string, assigned = new Map<string, string>()) =>
    syncService({ service: services.find((s) => s.metadata!.name === which)!, nodes: [], pool: { pool, holders: poolHolders(services, pool, assigned) } });

  const a = svc('a', {}, { ingress: ['192.168.50.11'] });
  const b = svc('b');
  assert.deepEqual(run([a, b], 'a').ingress, [{ ip: '192.168.50.11', ipMode: 'VIP' }]);
  assert.deepEqual(run([a, b], 'b').ingress, [{ ip: '192.168.50.10', ipMode: 'VIP' }]);
  // what this controller wrote a moment ago counts even before its cache shows it
  assert.deepEqual(run([a, b, svc('c')], 'c', new Map([['default/b', '192.168.50.10']])).ingress, [{ ip: '192.168.50.12', ipMode: 'VIP' }]);
  assert.deepEqual(run([a, svc('d', { loadBalancerIP: '192.168.50.12' })], 'd').ingress, [{ ip: '192.168.50.12', ipMode: 'VIP' }]);
  assert.deepEqual(run([a, svc('d', { loadBalancerIP: '192.168.50.11' })], 'd').ingress, [{ ip: '192.168.50.10', ipMode: 'VIP' }], 'asked-for address is taken');

  const older = svc('old', {}, { ingress: ['192.168.50.10'], created: '2025-01-01T00:00:00Z' });
  const newer = svc('new', {}, { ingress: ['192.168.50.10'] });
  assert.deepEqual(run([newer, older], 'old').ingress, [{ ip: '192.168.50.10', ipMode: 'VIP' }]);
  assert.deepEqual(run([newer, older], 'new').ingress, [{ ip: '192.168.50.11', ipMode: 'VIP' }]);

  // a Service of another class or type does not hold its address
  const freed = [svc('x', { type: 'ClusterIP' }, { ingress: ['192.168.50.10'] }), svc('y')];
  assert.deepEqual(run(freed, 'y').ingress, [{ ip: '192.168.50.10', ipMode: 'VIP' }]);

  const full = [svc('a', {}, { ingress: ['192.168.50.10'] }), svc('b', {}, { ingress: ['192.168.50.11'] }), svc('c', {}, { ingress: ['192.168.50.12'] }), svc('d')];
  const r = run(full, 'd');
  assert.deepEqual(r.ingress, []);
  assert.deepEqual(r.events, [{ type: 'Warning', reason: 'UnAvailableLoadBalancer', message: 'No free address in the load balancer pool 192.168.50.10-192.168.50.12' }]);
});
