import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hpaTargets } from './horizontalpodautoscaler';

const cpu50 = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } };
const mem = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } };

test('TARGETS as kubectl 1.32 prints it: name-prefixed resources, <unknown>, (avg), two then "+ N more..."', () => {
  assert.equal(hpaTargets(undefined, undefined), '<none>');
  assert.equal(hpaTargets([cpu50], undefined), 'cpu: <unknown>/50%');
  assert.equal(hpaTargets([cpu50], [{ type: '' }]), 'cpu: <unknown>/50%', 'a metric that failed leaves an empty status');
  assert.equal(hpaTargets([cpu50], [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 180, averageValue: '36m' } } }]), 'cpu: 180%/50%');
  assert.equal(
    hpaTargets([cpu50, mem], [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 10 } } }, { type: 'Resource', resource: { name: 'memory', current: { averageValue: '45764608' } } }]),
    'cpu: 10%/50%, memory: 45764608/100Mi',
  );
  assert.equal(hpaTargets([{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization' } } }], []), 'cpu: <unknown>/<auto>');
  assert.equal(hpaTargets([{ type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '10' } } }], []), '<unknown>/10');
  assert.equal(hpaTargets([{ type: 'External', external: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: '30' } } }], []), '<unknown>/30 (avg)');
  assert.equal(hpaTargets([{ type: 'Object', object: { metric: { name: 'q' }, target: { type: 'Value', value: '5' } } }], []), '<unknown>/5');
  assert.equal(hpaTargets([cpu50, mem, cpu50, { type: 'Nope' }], []), 'cpu: <unknown>/50%, memory: <unknown>/100Mi + 2 more...');
});
