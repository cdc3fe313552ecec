/**
 * The servicelb controller with `--lb-address-pool` as a real process against a real apiserver
 * (no nodes, no Docker): each LoadBalancer Service gets one pool address, kept across updates;
 * when the pool is full the next one waits with an UnAvailableLoadBalancer warning and gets the
 * address a deleted Service freed; a Service that stops being a LoadBalancer loses its
 * ingress and frees its address too; a Service with a loadBalancerClass is left alone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, Service } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../lib/client';
import { EVENTS, SERVICES } from '../lib/resources';
import { startControlPlane, type ControlPlane } from './lib/cluster';
import { waitFor } from './lib/util';

let cp: ControlPlane;
const POOL = '198.51.100.20-198.51.100.21';

const lb = (name: string, spec: Record<string, unknown> = {}) =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }], ...spec } }) as KubeObject;
const ingress = async (name: string) => ((await cp.client.get(SERVICES, name, 'default')) as Service).status?.loadBalancer?.ingress?.map((i) => `${i.ip}/${i.ipMode}`).join(',') ?? '';
const waitIngress = (name: string, want: (v: string) => boolean, what: string) => waitFor(`${name}: ${what}`, async () => want(await ingress(name)), 15_000, 100);

before(async () => {
  cp = await startControlPlane({ store: 'etcd' });
  cp.startComponent('controllers', ['--controllers', 'servicelb', '--lb-address-pool', POOL, '--port', '0']);
});

after(async () => {
  await cp?.stop();
});

test('one stable pool address per LoadBalancer Service; a full pool waits; addresses freed on delete and type change', async () => {
  await cp.client.create(SERVICES, lb('a'));
  await waitIngress('a', (v) => v === '198.51.100.20/VIP', 'first pool address');
  await cp.client.create(SERVICES, lb('b'));
  await waitIngress('b', (v) => v === '198.51.100.21/VIP', 'second pool address');
  await cp.client.create(SERVICES, lb('classed', { loadBalancerClass: 'example.com/other' }));
  await cp.client.create(SERVICES, lb('c'));
  await waitFor('UnAvailableLoadBalancer on c', async () => {
    const evs = (await cp.client.list<Event & KubeObject>(EVENTS, { namespace: 'default', fieldSelector: 'involvedObject.name=c' })).items;
    return evs.some((e) => e.reason === 'UnAvailableLoadBalancer' && e.type === 'Warning');
  }, 15_000, 100);

  // an update of a holder keeps its address
  await cp.client.patch(SERVICES, 'a', { metadata: { labels: { touched: 'yes' } } }, { namespace: 'default', type: 'merge' });
  await cp.client.delete(SERVICES, 'b', { namespace: 'default' });
  await waitIngress('c', (v) => v === '198.51.100.21/VIP', 'the freed address');
  assert.equal(await ingress('a'), '198.51.100.20/VIP');

  await cp.client.patch(SERVICES, 'a', { spec: { type: 'ClusterIP', ports: [{ port: 80 }] } }, { namespace: 'default', type: 'merge' });
  await waitIngress('a', (v) => v === '', 'ingress cleared once it is a ClusterIP Service');
  await cp.client.create(SERVICES, lb('d'));
  await waitIngress('d', (v) => v === '198.51.100.20/VIP', 'the address a held');
  assert.equal(await ingress('classed'), '', 'another class is left alone');
  const reasons = (await cp.client.list<Event & KubeObject>(EVENTS, { namespace: 'default', fieldSelector: 'involvedObject.name=a' })).items.map((e) => e.reason);
  for (const r of ['EnsuringLoadBalancer', 'EnsuredLoadBalancer', 'DeletingLoadBalancer', 'DeletedLoadBalancer']) assert.ok(reasons.includes(r), `${r} in ${reasons.join(',')}`);
});
