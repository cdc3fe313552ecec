import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateService } from './service';

test('service validation: port ranges and node ports', () => {
  const errs = validateService({ spec: { type: 'NodePort', ports: [{ port: 70000, nodePort: 1 }] } }, [30000, 32767]);
  assert.deepEqual(errs.map((e) => e.field), ['spec.ports[0].port', 'spec.ports[0].nodePort']);
});
