import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentPlan, serverPlan } from './plan';
import type { AgentOptions, ServerOptions } from './options';

const base = { home: '/h', nodeName: 'n1', nodeIP: '10.0.0.11', dockerSocket: '/d.sock', clusterCidr: '10.244.0.0/16', kubeletPort: 10250, readyTimeoutSec: 60, clusterDns: '10.96.0.10', clusterDomain: 'cluster.local' };
const server: ServerOptions = { ...base, tlsSans: [], disableAgent: false, serviceCidr: '10.96.0.0/12', nodePortRange: '30000-32767', apiserverPort: 6443, storeClientPort: 2379, storePeerPort: 2380, storeMetricsPort: 2381, eventTtl: '1h' };
const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];

test('a server: the store and the apiserver on the node IP, the store with mutual TLS from its own CA, leader-elected loops', () => {
  const plan = serverPlan(server, { initialCluster: 'n0=https://10.0.0.10:2380,n1=https://10.0.0.11:2380', state: 'existing', endpoints: ['https://10.0.0.11:2379', 'https://10.0.0.10:2379'] }, 'node', 'coxswain.js');
  assert.deepEqual(plan.map((c) => c.name), ['store', 'apiserver', 'scheduler', 'controllers', 'kubelet', 'proxy']);
  const [store, apiserver, scheduler, controllers, kubelet] = plan.map((c) => c.args);
  assert.equal(flag(store, '--listen-client-urls'), 'https://10.0.0.11:2379');
  assert.equal(flag(store, '--initial-cluster-state'), 'existing');
  assert.equal(flag(store, '--trusted-ca-file'), '/h/pki/store-ca.crt');
  assert.ok(store.includes('--client-cert-auth') && store.includes('--peer-client-cert-auth'));
  assert.equal(flag(store, '--listen-metrics-urls'), 'http://127.0.0.1:2381');
  assert.equal(flag(apiserver, '--event-ttl'), '1h');
  assert.ok(!apiserver.includes('--metric-resolution'), 'the apiserver default (15s) unless given');
  assert.equal(flag(apiserver, '--bind-address'), '10.0.0.11');
  assert.equal(flag(apiserver, '--store-endpoints'), 'https://10.0.0.11:2379,https://10.0.0.10:2379');
  assert.equal(flag(apiserver, '--store-cafile'), '/h/pki/store-ca.crt');
  assert.ok(scheduler.includes('--leader-elect') && controllers.includes('--leader-elect'));
  assert.equal(flag(controllers, '--cluster-signing-key-file'), '/h/pki/ca.key');
  assert.equal(flag(kubelet, '--address'), '10.0.0.11');
  assert.equal(flag(kubelet, '--tmpfs-root'), '/run/coxswain/kubelet-n1');
  assert.equal(flag(kubelet, '--cluster-dns'), '10.96.0.10');
  assert.equal(flag(kubelet, '--cluster-domain'), 'cluster.local');
  assert.equal(flag(plan[5].args, '--cluster-domain'), 'cluster.local');
  assert.ok(!plan[5].args.includes('--dns-upstream'));
  assert.equal(flag(serverPlan({ ...server, dnsUpstream: '127.0.0.1:5353' }, { initialCluster: '', state: 'new', endpoints: [] }, 'node', 'e')[5].args, '--dns-upstream'), '127.0.0.1:5353');
  assert.equal(plan[0].env?.DOCKER_HOST, 'unix:///d.sock');
  assert.deepEqual(serverPlan({ ...server, disableAgent: true }, { initialCluster: '', state: 'new', endpoints: [] }, 'node', 'e').map((c) => c.name), ['store', 'apiserver', 'scheduler', 'controllers']);
});

test('an agent: a kubelet and a proxy, both with the node credentials it got by CSR', () => {
  const agent: AgentOptions = { ...base, server: 'https://10.0.0.10:6443', token: 't', balancerPort: 6444 };
  const plan = agentPlan(agent, 'node', 'coxswain.js');
  assert.deepEqual(plan.map((c) => c.name), ['kubelet', 'proxy']);
  assert.equal(flag(plan[0].args, '--tls-cert-file'), '/h/pki/kubelet-serving.crt');
  assert.equal(flag(plan[0].args, '--kubeconfig'), flag(plan[1].args, '--kubeconfig'));
  assert.ok(plan[1].args.includes('--no-ingress'), 'no ingress ports given: the proxy serves none');
  const withIngress = agentPlan({ ...agent, ingress: { httpPort: 8080, httpsPort: 8443 } }, 'node', 'coxswain.js');
  assert.equal(flag(withIngress[1].args, '--ingress-http-port'), '8080');
  assert.equal(flag(withIngress[1].args, '--ingress-https-port'), '8443');
});
