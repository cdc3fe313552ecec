import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod, Service, ServicePort } from 'kubernetes-types/core/v1';
import { resolveEnv } from './container-env';
import { serviceEnvVars, servicesForPod } from './service-env';

const svc = (namespace: string, name: string, clusterIP: string, ports: ServicePort[]): Service =>
  ({ metadata: { namespace, name }, spec: { clusterIP, ports } });

const kubernetes = svc('default', 'kubernetes', '10.0.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]);
const redis = svc('app', 'redis-master', '10.0.0.11', [{ port: 6379 }, { name: 'metrics', port: 9121, protocol: 'UDP' }]);
const headless = svc('app', 'db', 'None', [{ port: 5432 }]);
const other = svc('elsewhere', 'web', '10.0.0.12', [{ port: 80 }]);

test('variables of one Service: kubelet names and values, Docker links for every port', () => {
  assert.deepEqual(Object.fromEntries(serviceEnvVars([redis])), {
    REDIS_MASTER_SERVICE_HOST: '10.0.0.11',
    REDIS_MASTER_SERVICE_PORT: '6379',
    REDIS_MASTER_SERVICE_PORT_METRICS: '9121',
    REDIS_MASTER_PORT: 'tcp://10.0.0.11:6379',
    REDIS_MASTER_PORT_6379_TCP: 'tcp://10.0.0.11:6379',
    REDIS_MASTER_PORT_6379_TCP_PROTO: 'tcp',
    REDIS_MASTER_PORT_6379_TCP_PORT: '6379',
    REDIS_MASTER_PORT_6379_TCP_ADDR: '10.0.0.11',
    REDIS_MASTER_PORT_9121_UDP: 'udp://10.0.0.11:9121',
    REDIS_MASTER_PORT_9121_UDP_PROTO: 'udp',
    REDIS_MASTER_PORT_9121_UDP_PORT: '9121',
    REDIS_MASTER_PORT_9121_UDP_ADDR: '10.0.0.11',
  });
  assert.equal(Object.fromEntries(serviceEnvVars([kubernetes])).KUBERNETES_SERVICE_PORT_HTTPS, '443');
});

test('which Services: the kubernetes one always, the namespace ones unless enableServiceLinks is false, never headless', () => {
  const all = [other, headless, redis, kubernetes];
  assert.deepEqual(servicesForPod(all, 'app', undefined).map((s) => s.metadata?.name), ['kubernetes', 'redis-master']);
  assert.deepEqual(servicesForPod(all, 'app', false).map((s) => s.metadata?.name), ['kubernetes']);
  assert.deepEqual(servicesForPod(all, 'default', false).map((s) => s.metadata?.name), ['kubernetes']);
});

test('explicit env wins over service variables and may reference them', () => {
  const pod: Pod = { metadata: { name: 'p', namespace: 'app', uid: 'u' }, spec: { containers: [] } };
  const c: Container = { name: 'c', image: 'x', env: [{ name: 'KUBERNETES_SERVICE_HOST', value: 'mine' }, { name: 'URL', value: 'https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)' }], command: ['echo', '$(REDIS_MASTER_SERVICE_PORT)'] };
  const serviceEnv = serviceEnvVars(servicesForPod([kubernetes, redis], 'app', true));
  const { env, vars } = resolveEnv(pod, c, { hostIP: '1.2.3.4', nodeName: 'n', serviceEnv });
  const m = new Map(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  assert.equal(m.get('KUBERNETES_SERVICE_HOST'), 'mine');
  assert.equal(m.get('URL'), 'https://mine:443');
  assert.equal(m.get('REDIS_MASTER_SERVICE_HOST'), '10.0.0.11');
  assert.equal(env.filter((e) => e.startsWith('KUBERNETES_SERVICE_HOST=')).length, 1);
  assert.equal(vars.get('REDIS_MASTER_SERVICE_PORT'), '6379');
});
