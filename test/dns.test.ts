/**
 * Issue 13, cluster DNS, checked from inside a busybox pod of a `coxswain up` cluster (real
 * apiserver, controllers, kubelet, proxy and Docker): the pod's resolv.conf names the kube-dns
 * ClusterIP with the Kubernetes search path; a Service's short name resolves through it and
 * `wget http://hello/` reaches the pod behind it; another namespace by `svc.other`; a headless
 * Service gives its pods' IPs; SRV for a named port; a StatefulSet pod by `web-0.nginx`; an
 * ExternalName is a CNAME; an unknown name is NXDOMAIN; a name outside the cluster is answered
 * by the upstream resolver (a dnsmasq on loopback that the proxy forwards to).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kubectlFor } from './lib/kubectl';
import { startUp, tearDownUp, type UpCluster } from './lib/up';
import { freePort, waitFor } from './lib/util';

const NODE = 'cxs-dns';
const SERVICE_CIDR = '10.162.0.0/16';
const DNS_IP = '10.162.0.10';
const CLUSTER_CIDR = '10.236.0.0/16';
const NODE_PORTS = '31950-31999';
const NS = 'dns';
const UPSTREAM_IP = `127.53.${1 + Math.floor(Math.random() * 250)}.1`;
const HAVE_DNSMASQ = spawnSync('sh', ['-c', 'command -v dnsmasq']).status === 0;

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Pod
metadata: {name: hello, namespace: ${NS}, labels: {app: hello}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: web
    image: busybox:1.36
    command: [sh, -c, "mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 80 -h /www"]
---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: ${NS}}
spec:
  selector: {app: hello}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: other}
spec:
  ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: ${NS}}
spec:
  type: ExternalName
  externalName: fwd.example.test
---
apiVersion: v1
kind: Service
metadata: {name: nginx, namespace: ${NS}}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: web, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: ${NS}}
spec:
  serviceName: nginx
  replicas: 2
  podManagementPolicy: Parallel
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: main
        image: busybox:1.36
        command: [sh, -c, "sleep 3600 & wait"]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${NS}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: busybox:1.36
    command: [sh, -c, "sleep 3600 & wait"]
`;

describe('cluster DNS from inside a pod', { timeout: 5 * 60_000 }, () => {
  let home: string;
  let cache: string;
  let cluster: UpCluster;
  let dnsmasq: ChildProcess | undefined;
  const { k, kok, jp } = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache, namespace: NS }));
  /** kubectl without a default namespace (objects name theirs). */
  const all = kubectlFor(() => ({ kubeconfig: cluster.kubeconfig, cacheDir: cache }));
  /** Runs a shell command in the client pod: exit code and output (stdout and stderr). */
  const inPod = async (cmd: string) => {
    const r = await k(['exec', 'client', '--', 'sh', '-c', cmd], { timeoutMs: 30_000 });
    return { code: r.code, out: r.stdout + r.stderr };
  };

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'coxswain-dns-'));
    cache = path.join(home, 'kubectl-cache');
    const upstreamPort = await freePort();
    if (HAVE_DNSMASQ) {
      // The "internet" of this test: one name, on loopback, never a real resolver.
      dnsmasq = spawn('dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--pid-file=', `--listen-address=${UPSTREAM_IP}`, '--bind-interfaces', `--port=${upstreamPort}`, '--address=/fwd.example.test/192.0.2.55'], { stdio: 'ignore' });
    }
    cluster = await startUp({ home, nodeName: NODE, serviceCidr: SERVICE_CIDR, clusterCidr: CLUSTER_CIDR, nodePortRange: NODE_PORTS, extraArgs: ['--dns-upstream', `${UPSTREAM_IP}:${upstreamPort}`] });
    await kok(['create', 'namespace', NS], { timeoutMs: 30_000 }).catch(() => undefined);
    await all.kok(['apply', '-f', '-'], { input: MANIFESTS });
    await kok(['wait', '--for=condition=Ready', 'pod/client', 'pod/hello', 'pod/web-0', 'pod/web-1', '--timeout=120s'], { timeoutMs: 130_000 });
  });

  after(async () => {
    dnsmasq?.kill();
    await tearDownUp(cluster, home, NODE, SERVICE_CIDR);
  });

  it('the apiserver created kube-system/kube-dns at the 10th service address', async () => {
    assert.equal(await all.jp(['-n', 'kube-system', 'get', 'svc', 'kube-dns'], '{.spec.clusterIP} {.spec.ports[*].protocol}'), `${DNS_IP} UDP TCP`);
  });

  it('the pod’s resolv.conf: cluster DNS, the namespace’s search path, ndots:5', async () => {
    const { out } = await inPod('cat /etc/resolv.conf');
    assert.match(out, new RegExp(`^nameserver ${DNS_IP.replace(/\./g, '\\.')}$`, 'm'));
    assert.equal(out.match(/^nameserver /gm)?.length, 1, out);
    assert.match(out, /^search dns\.svc\.cluster\.local svc\.cluster\.local cluster\.local( |$)/m);
    assert.match(out, /^options ndots:5$/m);
  });

  it('a short name through the search path, and wget by name reaches the pod', async () => {
    const ip = await jp(['get', 'svc', 'hello'], '{.spec.clusterIP}');
    // busybox nslookup also prints the search path's misses (and exits 1 for them); what counts is the answer
    const { out } = await inPod('nslookup hello');
    assert.match(out, /Name:\s+hello\.dns\.svc\.cluster\.local/);
    assert.ok(out.includes(`Address: ${ip}`), out);
    const body = await waitFor('wget http://hello/', async () => {
      const r = await inPod('timeout 5 wget -q -O - http://hello/');
      return r.code === 0 && r.out.includes('hello-from-pod') ? r.out : undefined;
    }, 30_000, 250);
    assert.match(body, /hello-from-pod/);
  });

  it('another namespace by svc.other', async () => {
    const ip = await all.jp(['-n', 'other', 'get', 'svc', 'db'], '{.spec.clusterIP}');
    // busybox nslookup tries the search path only for names without a dot; the C library
    // (here through ping, which prints the address it resolved) applies ndots:5 as pods do
    const { out } = await inPod('ping -c 1 -W 1 db.other 2>&1 | head -1');
    assert.ok(out.includes(`(${ip})`), out);
  });

  it('headless: the pods’ IPs; a StatefulSet pod by web-0.nginx; SRV for a named port', async () => {
    const ips = (await jp(['get', 'pods', '-l', 'app=web'], '{.items[*].status.podIP}')).split(' ').sort();
    const web0 = await jp(['get', 'pod', 'web-0'], '{.status.podIP}');
    const all = await waitFor('both pods in nslookup nginx', async () => {
      const r = await inPod('nslookup nginx');
      return ips.every((ip) => r.out.includes(`Address: ${ip}`)) ? r.out : undefined;
    }, 15_000, 250);
    assert.doesNotMatch(all, /Address: 10\.162\./, 'no ClusterIP for a headless Service');
    const one = await inPod('ping -c 1 -W 1 web-0.nginx');
    assert.equal(one.code, 0, one.out);
    assert.ok(one.out.includes(`(${web0})`), one.out);
    const srv = await inPod('nslookup -type=srv _web._tcp.nginx.dns.svc.cluster.local');
    assert.equal(srv.code, 0, srv.out);
    assert.match(srv.out, /80 web-0\.nginx\.dns\.svc\.cluster\.local/);
    assert.match(srv.out, /80 web-1\.nginx\.dns\.svc\.cluster\.local/);
  });

  it('ExternalName is a CNAME; an unknown name is NXDOMAIN', async () => {
    const ext = await inPod('nslookup -type=cname ext.dns.svc.cluster.local');
    assert.match(ext.out, /canonical name = fwd\.example\.test/);
    const nx = await inPod('nslookup nope.dns.svc.cluster.local');
    assert.notEqual(nx.code, 0);
    assert.match(nx.out, /NXDOMAIN/);
  });

  it('a name outside the cluster is answered by the upstream resolver', { skip: HAVE_DNSMASQ ? false : 'dnsmasq is not installed (apt-get install dnsmasq-base)' }, async () => {
    const fwd = await inPod('nslookup fwd.example.test');
    assert.match(fwd.out, /Name:\s+fwd\.example\.test\s+Address: 192\.0\.2\.55/);
    // the ExternalName's target resolves too, through the CNAME
    const ext = await inPod('nslookup ext');
    assert.match(ext.out, /192\.0\.2\.55/);
  });
});
