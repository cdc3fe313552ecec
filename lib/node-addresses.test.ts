import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1';
import { readyNodeAddresses } from './node-addresses';

const node = (name: string, ready: string, addrs: [string, string][]): Node => ({
  metadata: { name },
  status: { conditions: [{ type: 'Ready', status: ready }], addresses: addrs.map(([type, address]) => ({ type, address })) },
});

test('readyNodeAddresses: InternalIPs of Ready nodes only, sorted, once each', () => {
  const nodes = [
    node('b', 'True', [['InternalIP', '10.0.0.2'], ['Hostname', 'b']]),
    node('a', 'True', [['InternalIP', '10.0.0.10'], ['ExternalIP', '1.2.3.4']]),
    node('c', 'Unknown', [['InternalIP', '10.0.0.3']]),
    node('d', 'True', [['InternalIP', '10.0.0.2']]),
    { metadata: { name: 'e' } },
  ];
  assert.deepEqual(readyNodeAddresses(nodes), ['10.0.0.10', '10.0.0.2']);
  assert.deepEqual(readyNodeAddresses([]), []);
});
