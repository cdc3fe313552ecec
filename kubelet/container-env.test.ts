import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from 'kubernetes-types/core/v1';
import { expandVars, resolveEnv } from './container-env';

test('expandVars', () => {
  const vars = new Map([['A', '1']]);
  assert.equal(expandVars('$(A)-$$(A)-$(B)-$-$(', vars), '1-$(A)-$(B)-$-$(');
});

test('env: configMapKeyRef/secretKeyRef with optional, envFrom with prefix, resourceFieldRef with divisor; clear errors', () => {
  const objects = {
    configMaps: new Map([['cm', { data: { a: '1', 'bad key': 'x' } }], ['gone', null]]) as never,
    secrets: new Map([['s', { data: { pw: Buffer.from('pw!').toString('base64') } }]]) as never,
  };
  const facts = { hostIP: '1.1.1.1', nodeName: 'n1', objects };
  const p: Pod = { metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [] } };
  const env = (c: Partial<Container>) => resolveEnv(p, { name: 'c', image: 'x', ...c }, facts).env;
  assert.deepEqual(env({ envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'P_' }, { secretRef: { name: 's' } }] }), ['P_a=1', 'pw=pw!']);
  assert.deepEqual(env({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k', optional: true } } }, { name: 'Y', valueFrom: { secretKeyRef: { name: 's', key: 'nokey', optional: true } } }] }), []);
  assert.throws(() => env({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }] }), { name: 'ContainerConfigError', message: 'configmap "gone" not found' });
  assert.throws(() => env({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'zz' } } }] }), { message: "couldn't find key zz in ConfigMap ns/cm" });
  assert.throws(() => env({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }), { message: 'secret "nope" not found' });
  assert.deepEqual(
    env({
      resources: { limits: { cpu: '1500m', memory: '1Gi' } },
      env: [
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
        { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      ],
    }),
    ['CPU=2', 'CPU_M=1500', 'MEM_MI=1024'],
  );
});
