/**
 * The kubelet's pod manager against the real Docker engine, with no apiserver:
 * pods are handed to the manager directly and statuses land in a fake sink.
 * Every container and network this test creates carries a unique node label /
 * name and is removed in `after`, also when a test fails.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import Docker from 'dockerode';
import pino from 'pino';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import { DockerRuntime } from '../kubelet/docker-runtime';
import { PodManager } from '../kubelet/pod-manager';
import type { PodStatusSink } from '../kubelet/sync-pod';
import { gatewayOf, inCIDR } from '../kubelet/node-status';
import type { BridgePodNetwork } from '../kubelet/pod-network';
import { LABEL_NODE, LABEL_POD_UID } from '../kubelet/runtime';
import { FakeSink, attachPodNetwork, podHelpers } from './lib/kubelet-harness';

const run = promisify(execFile);
const docker = new Docker();
const log = pino({ level: process.env.COXSWAIN_LOG_LEVEL ?? 'warn' });
const suffix = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const NODE = `kt-${suffix}`;
const NETWORK = `coxswain-test-${suffix}`;
const NODE_IP = '192.0.2.10';
let SUBNET = '';
let net: BridgePodNetwork | undefined;


const runtime = new DockerRuntime(docker, log);
const sink = new FakeSink();
const manager = new PodManager({ runtime, nodeName: NODE, nodeIP: NODE_IP, sink, log });
sink.manager = manager;


async function cleanup(): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_NODE}=${NODE}`] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  await net?.remove();
}

before(async () => {
  net = await attachPodNetwork({ docker, runtime, manager, network: NETWORK, log });
  SUBNET = net.subnet!;
});

after(async () => {
  await manager.stop();
  await cleanup();
});

const { makePod, syncUntil, podContainers } = podHelpers({ node: NODE, docker, sink, manager: () => manager });



async function dockerExec(id: string, cmd: string[]): Promise<string> {
  const { stdout } = await run('docker', ['exec', id, ...cmd], { timeout: 20_000 });
  return stdout;
}

const busybox = 'busybox:1.36';
// PID 1 ignores SIGTERM unless it traps it: this loop exits promptly on docker stop.
const idle = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'];

test('two containers share the sandbox network: B reaches A on localhost; status Running with the pod IP', async () => {
  const pod = makePod('web', {
    containers: [
      { name: 'a', image: busybox, command: ['sh', '-c', 'mkdir -p /www && echo hello-from-a > /www/index.html && exec httpd -f -p 8080 -h /www'] },
      {
        name: 'b',
        image: busybox,
        command: idle,
        env: [
          { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        ],
      },
    ],
  });
  const uid = pod.metadata!.uid!;
  await manager.updatePod(pod);
  const status = await syncUntil(pod, (s) => s.phase === 'Running' && (s.containerStatuses ?? []).every((c) => c.ready), 'Running');

  assert.ok(status.podIP && inCIDR(status.podIP, SUBNET), `pod IP ${status.podIP} in ${SUBNET}`);
  assert.notEqual(status.podIP, gatewayOf(SUBNET));
  assert.deepEqual(status.podIPs, [{ ip: status.podIP }]);
  assert.equal(status.hostIP, NODE_IP);
  assert.ok(status.startTime);
  for (const t of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) assert.equal(status.conditions?.find((c) => c.type === t)?.status, 'True', t);
  const [a, b] = status.containerStatuses!;
  assert.equal(a.name, 'a');
  assert.ok(a.state?.running?.startedAt);
  assert.match(a.containerID ?? '', /^docker:\/\/[0-9a-f]{64}$/);
  assert.match(a.imageID, /^docker:\/\/sha256:/);
  assert.equal(a.restartCount, 0);
  assert.equal(b.started, true);

  const containers = await podContainers(uid);
  assert.equal(containers.length, 3);
  const sandbox = containers.find((c) => c.Labels['io.kubernetes.container.name'] === 'POD')!;
  assert.equal(sandbox.Image, 'registry.k8s.io/pause:3.10');
  assert.match(sandbox.Names[0], new RegExp(`^/k8s_POD_web_default_${uid}_0$`));
  const sbInfo = await docker.getContainer(sandbox.Id).inspect();
  // The kubelet wires the sandbox itself: Docker gives it no network; its eth0 holds the pod IP, on the node's bridge.
  assert.equal(sbInfo.HostConfig.NetworkMode, 'none');
  assert.equal(sbInfo.Config.Labels['coxswain.pod-ip'], status.podIP);
  assert.equal(sbInfo.Config.Hostname, 'web');
  const bId = b.containerID!.replace('docker://', '');
  const bInfo = await docker.getContainer(bId).inspect();
  assert.equal(bInfo.HostConfig.NetworkMode, `container:${sandbox.Id}`);
  assert.equal(bInfo.HostConfig.IpcMode, `container:${sandbox.Id}`);
  assert.equal(bInfo.Name, `/k8s_b_web_default_${uid}_0`);
  assert.equal(bInfo.Config.Labels['coxswain.restart-count'], '0');

  // Wait (with a deadline) for httpd to listen, then fetch from B over localhost.
  let body = '';
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    body = await dockerExec(bId, ['wget', '-qO-', 'http://127.0.0.1:8080/']).catch(() => '');
    if (body) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(body.trim(), 'hello-from-a');
  assert.match(await dockerExec(bId, ['ip', '-4', 'addr', 'show', 'eth0']), new RegExp(`inet ${status.podIP!.replace(/\./g, '\\.')}/24`));
  assert.match(await dockerExec(bId, ['ip', 'route']), new RegExp(`default via ${gatewayOf(SUBNET).replace(/\./g, '\\.')} dev eth0`));
  // The host (where the proxy runs) reaches the pod on its IP.
  assert.equal((await (await fetch(`http://${status.podIP}:8080/`)).text()).trim(), 'hello-from-a');
  assert.equal((await dockerExec(bId, ['sh', '-c', 'echo $MY_POD $MY_IP $MY_NODE'])).trim(), `web ${status.podIP} ${NODE}`);
  assert.equal((await dockerExec(bId, ['hostname'])).trim(), 'web');
  // The kubelet-managed /etc/hosts names the pod's own IP, as in Kubernetes.
  assert.match(await dockerExec(bId, ['cat', '/etc/hosts']), new RegExp(`^${status.podIP!.replace(/\./g, '\\.')}\tweb$`, 'm'));
  // And its /etc/resolv.conf is the node's resolver (no cluster DNS yet), without loopback servers.
  const resolv = await dockerExec(bId, ['cat', '/etc/resolv.conf']);
  assert.doesNotMatch(resolv, /nameserver 127\./);
  assert.equal(resolv.includes('nameserver'), (await readFile('/etc/resolv.conf', 'utf8')).split('\n').some((l) => /^nameserver (?!127\.)/.test(l)));

  // Another pod on the node reaches this one on its IP, across the bridge (forwarding accepted ahead of Docker's DROP policy).
  const peer = makePod('peer', { containers: [{ name: 'c', image: busybox, command: idle }] });
  await manager.updatePod(peer);
  const ps = await syncUntil(peer, (st) => st.phase === 'Running', 'peer Running');
  assert.notEqual(ps.podIP, status.podIP);
  const peerId = ps.containerStatuses![0].containerID!.replace('docker://', '');
  assert.equal((await dockerExec(peerId, ['wget', '-qO-', `http://${status.podIP}:8080/`])).trim(), 'hello-from-a');
  await manager.removePod(peer);

  // A pod of another node on this host (its own bridge and podCIDR) reaches it too: routed, not dropped by Docker's isolation.
  const otherSink = new FakeSink();
  const other = new PodManager({ runtime, nodeName: `${NODE}-b`, nodeIP: NODE_IP, sink: otherSink, log });
  otherSink.manager = other;
  const otherNet = await attachPodNetwork({ docker, runtime, manager: other, network: `${NETWORK}-b`, log });
  try {
    const far = podHelpers({ node: `${NODE}-b`, docker, sink: otherSink, manager: () => other });
    const fp = far.makePod('far', { containers: [{ name: 'c', image: busybox, command: idle }] });
    await other.updatePod(fp);
    const fs = await far.syncUntil(fp, (st) => st.phase === 'Running', 'far Running');
    assert.ok(inCIDR(fs.podIP!, otherNet.subnet!));
    const farId = fs.containerStatuses![0].containerID!.replace('docker://', '');
    assert.equal((await dockerExec(farId, ['wget', '-qO-', `http://${status.podIP}:8080/`])).trim(), 'hello-from-a');
    await other.removePod(fp);
  } finally {
    await other.stop();
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL_NODE}=${NODE}-b`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    await otherNet.remove();
  }

  // A full resync of a steady pod asks Docker for one node-wide listing, not one per pod, and changes nothing.
  await manager.syncAll();
  const before = runtime.apiCallCount;
  await manager.syncAll();
  assert.deepEqual([runtime.apiCallCount - before, sink.statuses.get(uid)?.phase], [1, 'Running'], JSON.stringify(Object.fromEntries(runtime.apiCalls)));

  // A second manager (a restarted kubelet) adopts the pod: nothing is restarted.
  const sink2 = new FakeSink();
  const restarted = new PodManager({ runtime, nodeName: NODE, nodeIP: NODE_IP, sink: sink2, log });
  await restarted.setNetwork(net!);
  restarted.markSourcesReady();
  await restarted.updatePod(pod);
  const adopted = sink2.statuses.get(uid)!;
  assert.equal(adopted.phase, 'Running');
  assert.equal(adopted.podIP, status.podIP);
  assert.deepEqual(adopted.containerStatuses!.map((c) => c.containerID), status.containerStatuses!.map((c) => c.containerID));
  assert.deepEqual((await podContainers(uid)).map((c) => c.Id).sort(), containers.map((c) => c.Id).sort());
  await restarted.stop();

  // Graceful deletion: containers stopped and removed, then the pod is deleted.
  const t0 = Date.now();
  await manager.updatePod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 1 } });
  assert.ok(sink.deleted.has(uid), 'pod deleted from the API');
  assert.deepEqual(await podContainers(uid), []);
  assert.ok(Date.now() - t0 < 15_000, 'termination honours the grace period');
});

test('the pod bridge keeps its MAC while pods come and go, so running pods keep reaching their gateway', async () => {
  const mac = async () => (JSON.parse((await run('ip', ['-j', 'link', 'show', 'dev', net!.bridge])).stdout) as { address: string }[])[0].address;
  const before = await mac();
  // A port with a MAC lower than any other: an unpinned Linux bridge would take it as its own,
  // leaving every pod's ARP entry for the gateway pointing at an address nobody answers.
  const veth = `cxm${suffix}`.slice(0, 15);
  await run('ip', ['link', 'add', veth, 'address', '02:00:00:00:00:01', 'type', 'veth', 'peer', 'name', `cxn${suffix}`.slice(0, 15)]);
  try {
    await run('ip', ['link', 'set', veth, 'master', net!.bridge, 'up']);
    assert.equal(await mac(), before, 'a port joining does not change the gateway MAC');
  } finally {
    await run('ip', ['link', 'del', veth]);
  }
  assert.equal(await mac(), before, 'nor does one leaving');
});

test('a container exiting 1 under restartPolicy Never makes the pod Failed', async () => {
  const pod = makePod('fails', { restartPolicy: 'Never', containers: [{ name: 'main', image: busybox, command: ['sh', '-c', 'echo bye; exit 1'] }] });
  await manager.updatePod(pod);
  const s = await syncUntil(pod, (st) => st.phase === 'Failed', 'Failed');
  const c = s.containerStatuses![0];
  assert.equal(c.state?.terminated?.exitCode, 1);
  assert.equal(c.state?.terminated?.reason, 'Error');
  assert.ok(c.state?.terminated?.finishedAt);
  assert.equal(c.ready, false);
  assert.equal(s.conditions?.find((x) => x.type === 'Ready')?.reason, 'PodCompleted');
  assert.ok(s.podIP, 'pod IP kept after the pod finished');
  // The sandbox is stopped and nothing restarts.
  const sb = (await podContainers(pod.metadata!.uid!)).find((x) => x.Labels['io.kubernetes.container.name'] === 'POD');
  assert.notEqual(sb?.State, 'running');
  await manager.sync(pod.metadata!.uid!);
  assert.equal((await podContainers(pod.metadata!.uid!)).length, 2);
  await manager.removePod(pod);
  assert.deepEqual(await podContainers(pod.metadata!.uid!), []);
});

test('restartPolicy Always: a crashing container waits in CrashLoopBackOff with its last exit; Docker reports its death', async () => {
  const pod = makePod('crash', { containers: [{ name: 'main', image: busybox, command: ['sh', '-c', 'exit 3'] }] });
  const since = new Date(Date.now() - 1_000);
  await manager.updatePod(pod);
  const s = await syncUntil(pod, (st) => st.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff', 'CrashLoopBackOff');
  const c = s.containerStatuses![0];
  assert.equal(c.lastState?.terminated?.exitCode, 3);
  assert.match(c.state!.waiting!.message!, /back-off 10s restarting failed container=main/);
  assert.equal(s.phase, 'Running');
  // Docker replays the pod's container events from `since`: the death is among them.
  const events: { action: string; podUid?: string }[] = [];
  const stopEvents = new AbortController();
  const watching = runtime.watchEvents({ [LABEL_NODE]: NODE }, (ev) => events.push(ev), stopEvents.signal, since);
  const deadline = Date.now() + 10_000;
  while (!events.some((e) => e.action === 'die' && e.podUid === pod.metadata!.uid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  stopEvents.abort();
  await watching;
  assert.ok(events.some((e) => e.action === 'die' && e.podUid === pod.metadata!.uid), JSON.stringify(events));
  await manager.removePod(pod);
  assert.deepEqual(await podContainers(pod.metadata!.uid!), []);
});

test('hostNetwork pods share the host network and report the node IP', async () => {
  const pod = makePod('hostnet', { hostNetwork: true, containers: [{ name: 'main', image: busybox, command: idle }] });
  await manager.updatePod(pod);
  const s = await syncUntil(pod, (st) => st.phase === 'Running', 'Running');
  assert.equal(s.podIP, NODE_IP);
  const main = s.containerStatuses![0].containerID!.replace('docker://', '');
  assert.equal((await docker.getContainer(main).inspect()).HostConfig.NetworkMode, 'host');
  await manager.removePod(pod);
  assert.deepEqual(await podContainers(pod.metadata!.uid!), []);
});

test('missing images: ErrImagePull (then ImagePullBackOff) and ErrImageNeverPull, never a crash', async () => {
  const pod = makePod('noimage', {
    containers: [
      // A registry on a closed loopback port: the pull fails at once and no traffic leaves the machine.
      { name: 'pull', image: '127.0.0.1:9/coxswain-test/does-not-exist:0.1', imagePullPolicy: 'IfNotPresent' },
      { name: 'never', image: 'coxswain-test/does-not-exist:0.1', imagePullPolicy: 'Never' },
      { name: 'ok', image: busybox, command: idle },
    ],
  });
  await manager.updatePod(pod);
  const s = await syncUntil(pod, (st) => st.containerStatuses?.[2]?.ready === true, 'the good container to run');
  const [pull, never] = s.containerStatuses!;
  assert.ok(['ErrImagePull', 'ImagePullBackOff'].includes(pull.state?.waiting?.reason ?? ''), JSON.stringify(pull.state));
  assert.match(pull.state!.waiting!.message!, /does-not-exist/);
  assert.equal(never.state?.waiting?.reason, 'ErrImageNeverPull');
  assert.match(never.state!.waiting!.message!, /not present with pull policy of Never/);
  assert.equal(s.phase, 'Pending');
  await manager.sync(pod.metadata!.uid!);
  assert.equal(sink.statuses.get(pod.metadata!.uid!)!.containerStatuses![0].state?.waiting?.reason, 'ImagePullBackOff');
  await manager.removePod(pod);
  assert.deepEqual(await podContainers(pod.metadata!.uid!), []);
});

test('containers of pods unknown to the API are removed by a full sync', async () => {
  const pod = makePod('orphan', { containers: [{ name: 'main', image: busybox, command: idle }] });
  await manager.updatePod(pod);
  await syncUntil(pod, (st) => st.phase === 'Running', 'Running');
  // A fresh manager that never heard of the pod (deleted while the kubelet was down).
  const fresh = new PodManager({ runtime, nodeName: NODE, nodeIP: NODE_IP, sink: new FakeSink(), log });
  await fresh.setNetwork(net!);
  await fresh.syncAll();
  assert.equal((await podContainers(pod.metadata!.uid!)).length, 2, 'nothing removed before the pod source is ready');
  fresh.markSourcesReady();
  await fresh.syncAll();
  assert.deepEqual(await podContainers(pod.metadata!.uid!), []);
  await fresh.stop();
});
