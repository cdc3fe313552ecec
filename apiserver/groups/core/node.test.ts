import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateNode } from './node';

test('nodes: podCIDR may only be set once', () => {
  const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
  const node = (podCIDR?: string) => ({ spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} });
  assert.deepEqual(validateNode(node('10.0.1.0/24'), node()), [], 'unset → set');
  assert.deepEqual(fields(validateNode(node('10.0.2.0/24'), node('10.0.1.0/24'))), ['spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid']);
});
