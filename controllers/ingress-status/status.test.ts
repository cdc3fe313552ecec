import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ingress } from 'kubernetes-types/networking/v1';
import { desiredIngressStatus } from './status';

const ing = (ips: string[]): Ingress => ({ metadata: { name: 'i' }, status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } });

test('desiredIngressStatus: the node addresses, or undefined when already there', () => {
  assert.deepEqual(desiredIngressStatus({ metadata: { name: 'i' } }, ['10.0.0.1', '10.0.0.2']), [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }]);
  assert.equal(desiredIngressStatus(ing(['10.0.0.1', '10.0.0.2']), ['10.0.0.1', '10.0.0.2']), undefined);
  assert.deepEqual(desiredIngressStatus(ing(['10.0.0.1', '10.0.0.2']), ['10.0.0.2']), [{ ip: '10.0.0.2' }]);
  assert.deepEqual(desiredIngressStatus(ing(['10.0.0.1']), []), []);
  assert.equal(desiredIngressStatus({ metadata: { name: 'i' } }, []), undefined);
  const withHostname: Ingress = { metadata: { name: 'i' }, status: { loadBalancer: { ingress: [{ ip: '10.0.0.1', hostname: 'lb.example' }] } } };
  assert.deepEqual(desiredIngressStatus(withHostname, ['10.0.0.1']), [{ ip: '10.0.0.1' }]);
});
