import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hpaTargets, validateHPA } from './horizontalpodautoscaler';

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

test('validation: metric sources and targets, behavior rules, in Kubernetes\' words', () => {
  const base = { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 3 };
  const errs = (spec: Record<string, unknown>) => validateHPA({ spec: { ...base, ...spec } } as never).map((e) => `${e.field}: ${e.message}`);
  assert.deepEqual(errs({ metrics: [cpu50, mem] }), []);
  assert.deepEqual(errs({ metrics: [{ resource: {} }] }), ['spec.metrics[0].type: Required value: must specify a metric source type']);
  assert.deepEqual(errs({ metrics: [{ type: 'Resource' }] }), ['spec.metrics[0].resource: Required value: must populate information for the given metric source']);
  assert.deepEqual(errs({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } }] }), [
    'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
  ]);
  assert.deepEqual(errs({ metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '0' } } }] }), [
    'spec.metrics[0].resource.target.averageValue: Invalid value: "0": must be positive',
  ]);
  assert.deepEqual(errs({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }] }), [
    'spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
  ]);
  assert.deepEqual(errs({ metrics: [{ type: 'Cpu' }] }), ['spec.metrics[0].type: Unsupported value: "Cpu": supported values: "Object", "Pods", "Resource", "ContainerResource", "External"']);
  assert.deepEqual(errs({ behavior: { scaleDown: { stabilizationWindowSeconds: 7200, selectPolicy: 'Fastest', policies: [{ type: 'Pods', value: 0, periodSeconds: 3600 }] } } }), [
    'spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 7200: must be less than or equal to 3600',
    'spec.behavior.scaleDown.selectPolicy: Unsupported value: "Fastest": supported values: "Disabled", "Max", "Min"',
    'spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than zero',
    'spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 3600: must be less than or equal to 1800',
  ]);
  assert.deepEqual(errs({ behavior: { scaleUp: { policies: [] } } }), ['spec.behavior.scaleUp.policies: Required value: must specify at least one Policy']);
});
