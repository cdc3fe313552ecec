import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from 'kubernetes-types/core/v1';
import { buildContainerSpec, seccompSecurityOpt, buildMounts, linuxResources, linuxSecurity, buildSandboxSpec, containerHash, pullPolicyOf, runtimeContainerName } from './container-spec';
import { hostsFileContent, parseResolvConf, podHostname, resolvConfContent } from './pod-files';
import { ContainerConfigError } from './pod-inputs';

const pod: Pod = {
  metadata: { name: 'web', namespace: 'prod', uid: 'u-1', labels: { app: 'x' } },
  spec: {
    nodeName: 'n1',
    terminationGracePeriodSeconds: 7,
    containers: [
      {
        name: 'main',
        image: 'busybox:1.36',
        command: ['sh', '-c'],
        args: ['echo $(GREETING) $$(NOT) $(MISSING)'],
        workingDir: '/tmp',
        env: [
          { name: 'NAME', value: 'world' },
          { name: 'GREETING', value: 'hello $(NAME)' },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        ],
      },
    ],
  },
};

test('container spec: names, labels, env with fieldRef and $(VAR) expansion', () => {
  const s = buildContainerSpec(pod, pod.spec!.containers[0], 3, 'sb1', { podIP: '10.244.0.9', hostIP: '192.168.0.2', nodeName: 'n1' });
  assert.equal(s.name, 'k8s_main_web_prod_u-1_3');
  assert.deepEqual(s.entrypoint, ['sh', '-c']);
  assert.deepEqual(s.cmd, ['echo hello world $(NOT) $(MISSING)']);
  assert.deepEqual(s.env, ['NAME=world', 'GREETING=hello world', 'POD=web', 'NS=prod', 'UID=u-1', 'IP=10.244.0.9', 'NODE=n1', 'APP=x']);
  assert.equal(s.workingDir, '/tmp');
  assert.equal(s.sandboxId, 'sb1');
  assert.equal(s.labels['io.kubernetes.pod.namespace'], 'prod');
  assert.equal(s.labels['io.kubernetes.pod.name'], 'web');
  assert.equal(s.labels['io.kubernetes.pod.uid'], 'u-1');
  assert.equal(s.labels['io.kubernetes.container.name'], 'main');
  assert.equal(s.labels['coxswain.restart-count'], '3');
  assert.equal(s.labels['coxswain.node'], 'n1');
  assert.equal(s.labels['io.kubernetes.pod.terminationGracePeriod'], '7');
  assert.equal(s.labels['coxswain.container-hash'], containerHash(pod.spec!.containers[0]));
});

test('sandbox spec: pause image, POD name, hostname, pod IP label', () => {
  const s = buildSandboxSpec(pod, 2, 'n1', '10.244.0.7');
  assert.equal(s.name, 'k8s_POD_web_prod_u-1_2');
  assert.equal(s.image, 'registry.k8s.io/pause:3.10');
  assert.equal(s.hostname, 'web');
  assert.equal(s.podIP, '10.244.0.7');
  assert.equal(s.labels['coxswain.pod-ip'], '10.244.0.7');
  assert.equal(s.labels['io.kubernetes.container.name'], 'POD');
  assert.equal(s.labels['coxswain.restart-count'], '2');
  const hn = buildSandboxSpec({ ...pod, spec: { ...pod.spec!, hostNetwork: true } }, 0, 'n1', undefined);
  assert.equal(hn.hostNetwork, true);
  assert.equal(hn.podIP, undefined);
  assert.equal(hn.labels['coxswain.pod-ip'], undefined);
  assert.equal(hn.hostname, undefined);
  assert.equal(runtimeContainerName(pod, 'x', 0), 'k8s_x_web_prod_u-1_0');
});

test('unsupported env sources are a config error, not a crash', () => {
  const bad = { name: 'c', image: 'busybox:1.36', env: [{ name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] };
  assert.throws(() => buildContainerSpec(pod, bad, 0, 'sb', { hostIP: 'h', nodeName: 'n' }), ContainerConfigError);
});

test('pull policy defaults', () => {
  assert.equal(pullPolicyOf({ name: 'c', image: 'busybox' }), 'Always');
  assert.equal(pullPolicyOf({ name: 'c', image: 'busybox:latest' }), 'Always');
  assert.equal(pullPolicyOf({ name: 'c', image: 'busybox:1.36' }), 'IfNotPresent');
  assert.equal(pullPolicyOf({ name: 'c', image: 'localhost:5000/busybox' }), 'Always');
  assert.equal(pullPolicyOf({ name: 'c', image: 'busybox@sha256:abc' }), 'IfNotPresent');
  assert.equal(pullPolicyOf({ name: 'c', image: 'busybox', imagePullPolicy: 'Never' }), 'Never');
});

test('container hash ignores resources and key order', () => {
  const a = containerHash({ name: 'c', image: 'i', args: ['x'] });
  assert.equal(a, containerHash({ args: ['x'], image: 'i', name: 'c', resources: { limits: { cpu: '1' } } }));
  assert.notEqual(a, containerHash({ name: 'c', image: 'j', args: ['x'] }));
});

test('hosts file: localhost, the pod IP with its (qualified) hostname, then hostAliases; mounted at /etc/hosts unless the container mounts it', () => {
  const p: Pod = { metadata: { name: 'web-0', namespace: 'prod', uid: 'u' }, spec: { hostname: 'web-0', subdomain: 'web', hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar.local'] }], containers: [{ name: 'c', image: 'x' }] } };
  const text = hostsFileContent(p, '10.244.0.9');
  assert.match(text, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(text, /^10\.244\.0\.9\tweb-0\.web\.prod\.svc\.cluster\.local\tweb-0$/m);
  assert.match(text, /^10\.1\.2\.3\tfoo\.local\tbar\.local$/m);
  assert.match(hostsFileContent({ metadata: { name: 'solo' }, spec: { containers: [] } }, '10.244.0.10'), /^10\.244\.0\.10\tsolo$/m);
  assert.equal(podHostname({ metadata: { name: `${'a'.repeat(62)}-b` } }), 'a'.repeat(62));
  const facts = { hostIP: '192.0.2.1', nodeName: 'n1', hostsFile: '/var/lib/k/pods/u/etc-hosts' };
  assert.ok(buildContainerSpec(p, p.spec!.containers[0], 0, 'sb', facts).mounts!.some((m) => m.target === '/etc/hosts' && m.source === facts.hostsFile));
  const own = { ...p, spec: { ...p.spec!, volumes: [{ name: 'h', hostPath: { path: '/tmp/h' } }], containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'h', mountPath: '/etc/hosts' }] }] } };
  const mounts = buildContainerSpec(own, own.spec.containers[0], 0, 'sb', { ...facts, volumes: new Map([['h', { hostPath: '/tmp/h', readOnly: false }]]) }).mounts!;
  assert.deepEqual(mounts.filter((m) => m.target === '/etc/hosts').map((m) => m.source), ['/tmp/h']);
});

test('seccomp: Unconfined unless named (RuntimeDefault with --seccomp-default), the container\'s profile over the pod\'s, Localhost from its JSON', () => {
  assert.deepEqual(seccompSecurityOpt(undefined, 'c'), ['seccomp=unconfined']);
  assert.deepEqual(seccompSecurityOpt(undefined, 'c', true), []);
  assert.deepEqual(seccompSecurityOpt({ type: 'RuntimeDefault' }, 'c'), []);
  assert.deepEqual(seccompSecurityOpt({ type: 'Localhost', localhostProfile: 'p.json' }, 'c', false, '{"defaultAction":"SCMP_ACT_ALLOW"}'), ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']);
  assert.throws(() => seccompSecurityOpt({ type: 'Localhost', localhostProfile: 'p.json' }, 'container c'), /container c: cannot load seccomp profile "p\.json"/);
  assert.throws(() => seccompSecurityOpt({ type: 'Sometimes' }, 'container c'), /seccompProfile\.type must be Unconfined, RuntimeDefault or Localhost, not "Sometimes"/);
  const p: Pod = { metadata: { name: 'p', uid: 'u' }, spec: { securityContext: { seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x', securityContext: { seccompProfile: { type: 'Unconfined' } } }] } };
  const facts = { hostIP: '192.0.2.1', nodeName: 'n1' };
  assert.equal(buildContainerSpec(p, p.spec!.containers[0], 0, 'sb', facts).security, undefined);
  assert.deepEqual(buildContainerSpec(p, p.spec!.containers[1], 0, 'sb', facts).security?.securityOpt, ['seccomp=unconfined']);
  assert.deepEqual(buildSandboxSpec(p, 0, 'n1', '10.244.0.2').securityOpt, []);
  assert.deepEqual(buildSandboxSpec({ ...p, spec: { containers: [] } }, 0, 'n1', '10.244.0.2').securityOpt, ['seccomp=unconfined']);
});

test('resolv.conf: the node\'s resolver without loopback servers, dnsConfig added (its options override), only dnsConfig under dnsPolicy None', () => {
  const node = parseResolvConf('# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example lab.example\noptions edns0 ndots:2\n');
  assert.deepEqual(node, { nameservers: ['127.0.0.53', '10.0.0.2'], searches: ['corp.example', 'lab.example'], options: ['edns0', 'ndots:2'] });
  const p: Pod = { metadata: { name: 'p' }, spec: { containers: [], dnsConfig: { nameservers: ['1.1.1.1'], searches: ['x.example'], options: [{ name: 'ndots', value: '5' }, { name: 'rotate' }] } } };
  assert.equal(resolvConfContent(p, node), 'nameserver 10.0.0.2\nnameserver 1.1.1.1\nsearch corp.example lab.example x.example\noptions edns0 ndots:5 rotate\n');
  assert.equal(resolvConfContent({ ...p, spec: { ...p.spec!, dnsPolicy: 'None' } }, node), 'nameserver 1.1.1.1\nsearch x.example\noptions ndots:5 rotate\n');
  const facts = { hostIP: '192.0.2.1', nodeName: 'n1', resolvConfFile: '/var/lib/k/pods/u/resolv.conf' };
  assert.ok(buildContainerSpec({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } }, { name: 'c', image: 'x' }, 0, 'sb', facts).mounts!.some((m) => m.target === '/etc/resolv.conf' && m.source === facts.resolvConfFile));
});

test('cgroup resources, security settings and mounts from the container spec; clear errors', () => {
  assert.deepEqual(linuxResources({ requests: { cpu: '100m' }, limits: { cpu: '2', memory: '128Mi' } }), { cpuShares: 102, cpuPeriod: 100000, cpuQuota: 200000, memoryBytes: 134217728 });
  assert.deepEqual(linuxResources({ limits: { cpu: '1' } }), { cpuShares: 1024, cpuPeriod: 100000, cpuQuota: 100000 });
  assert.equal(linuxResources(undefined), undefined);
  assert.deepEqual(
    linuxSecurity({ spec: { containers: [], securityContext: { runAsUser: 5, fsGroup: 7 } } }, { name: 'c', securityContext: { runAsGroup: 6, capabilities: { add: ['cap_net_admin'], drop: ['all'] }, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true } }),
    { user: '5:6', groupAdd: ['7'], readOnlyRootfs: true, capAdd: ['NET_ADMIN'], capDrop: ['ALL'], securityOpt: ['no-new-privileges', 'seccomp=unconfined'] },
  );
  assert.throws(() => linuxSecurity({ spec: { containers: [] } }, { name: 'c', securityContext: { runAsGroup: 1 } }), /runAsGroup is specified without a runAsUser/);
  assert.throws(() => buildMounts({ name: 'c', volumeMounts: [{ name: 'v', mountPath: '/v' }] }, new Map()), /volume "v" is not ready or does not exist/);
  assert.throws(() => buildMounts({ name: 'c', volumeMounts: [{ name: 'v', mountPath: '/v', subPath: '../x' }] }, new Map([['v', { hostPath: '/h', readOnly: false }]])), /subPath/);
  assert.deepEqual(buildMounts({ name: 'c', volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 'a/b', readOnly: true }] }, new Map([['v', { hostPath: '/h', readOnly: false }]])), [{ type: 'bind', source: '/h/a/b', target: '/v', readOnly: true }]);
});
