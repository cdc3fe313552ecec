import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import test from 'node:test';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import type { LogOptions } from '../api/log-options';
import type { LogsRequest } from '../api/proto';
import type { ContainerRuntime, RuntimeContainer } from '../runtime';
import { KubeletStreamingService, netDevStats } from './service';

test('pod network stats sum every interface of the sandbox namespace but lo', () => {
  const text = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:    9000      90    0    0    0     0          0         0     9000      90    0    0    0     0       0          0',
    '  eth0:    1500      12    1    0    0     0          0         0      700       8    2    0    0     0       0          0',
    '  net1:     100       1    0    0    0     0          0         0       50       1    0    0    0     0       0          0',
  ].join('\n');
  assert.deepEqual(netDevStats(text), { rx_bytes: 1600, tx_bytes: 750, rx_errors: 1, tx_errors: 2 });
  assert.deepEqual(netDevStats(''), { rx_bytes: 0, tx_bytes: 0, rx_errors: 0, tx_errors: 0 });
});

function container(over: Partial<RuntimeContainer>): RuntimeContainer {
  return { id: 'c', name: 'n', podUid: 'u1', podName: 'web', podNamespace: 'default', containerName: 'app', restartCount: 0, hash: '', image: 'i', imageId: 'sha256:i', state: 'running', createdAt: '2026-01-01T00:00:00Z', ...over };
}

/** A runtime with the given containers whose logs are `log of <id>`; records the log options asked for. */
function fakeRuntime(containers: RuntimeContainer[]) {
  const asked: { id: string; options: LogOptions }[] = [];
  const runtime = {
    listContainers: async (labels: Record<string, string>) => containers.filter((c) => c.containerName === labels['io.kubernetes.container.name']),
    containerLogs: async (id: string, options: LogOptions) => {
      asked.push({ id, options });
      return Readable.from([Buffer.from(`log of ${id}\n`), Buffer.from('more\n')]);
    },
  } as Partial<ContainerRuntime> as ContainerRuntime;
  return { runtime, asked };
}

/** A server-streaming call as grpc-js hands it to the service: collects writes, the end and an error. */
function logsCall(request: LogsRequest) {
  const call = Object.assign(new EventEmitter(), {
    request,
    cancelled: false,
    chunks: [] as Buffer[],
    ended: false,
    write(m: { data: Buffer }) {
      this.chunks.push(m.data);
      return true;
    },
    end() {
      this.ended = true;
    },
  });
  let error: { code: number; details: string } | undefined;
  call.on('error', (e: { code: number; details: string }) => (error = e));
  return { call, error: () => error };
}

const service = (runtime: ContainerRuntime) => new KubeletStreamingService({ runtime, nodeName: 'n1', nodeIP: '192.0.2.1', log: pino({ level: 'silent' }) });
const pod = { namespace: 'default', name: 'web', uid: 'u1' };

test('logs: an empty first chunk says "found", then the log, cut at limit_bytes; tail -1 means all lines', async () => {
  const { runtime, asked } = fakeRuntime([container({ id: 'c1' })]);
  const { call } = logsCall({ pod, container: 'app', tail_lines: -1, since_unix: 0, limit_bytes: 10 });
  await service(runtime).logs(call as unknown as grpc.ServerWritableStream<LogsRequest, { data: Buffer }>);
  assert.equal(call.chunks[0].length, 0);
  assert.equal(Buffer.concat(call.chunks).toString(), 'log of c1\n');
  assert.equal(call.ended, true);
  assert.equal(asked[0].options.tailLines, undefined);
});

test('logs: previous is the newest dead instance (the one before a running one; the current one in a crash loop)', async () => {
  const running = fakeRuntime([container({ id: 'old', restartCount: 0, state: 'exited' }), container({ id: 'new', restartCount: 1, state: 'running' })]);
  const a = logsCall({ pod, container: 'app', previous: true });
  await service(running.runtime).logs(a.call as unknown as grpc.ServerWritableStream<LogsRequest, { data: Buffer }>);
  assert.equal(running.asked[0].id, 'old');

  const crashing = fakeRuntime([container({ id: 'old', restartCount: 0, state: 'exited' }), container({ id: 'new', restartCount: 1, state: 'exited' })]);
  const b = logsCall({ pod, container: 'app', previous: true });
  await service(crashing.runtime).logs(b.call as unknown as grpc.ServerWritableStream<LogsRequest, { data: Buffer }>);
  assert.equal(crashing.asked[0].id, 'new');
});

test('logs of a container that is not there: NOT_FOUND naming it', async () => {
  const { runtime } = fakeRuntime([]);
  const { call, error } = logsCall({ pod, container: 'app', previous: true });
  await service(runtime).logs(call as unknown as grpc.ServerWritableStream<LogsRequest, { data: Buffer }>);
  assert.equal(error()?.code, grpc.status.NOT_FOUND);
  assert.match(error()?.details ?? '', /previous terminated container "app" in pod "web" not found/);
});

test('a pod IP for port-forward: the running sandbox\'s, 127.0.0.1 for host network, none without a running sandbox', async () => {
  const sandbox = (over: Partial<RuntimeContainer>) => container({ containerName: 'POD', ...over });
  assert.equal(await service(fakeRuntime([sandbox({ ip: '10.244.0.5' })]).runtime).podIP(pod), '10.244.0.5');
  assert.equal(await service(fakeRuntime([sandbox({ hostNetwork: true })]).runtime).podIP(pod), '127.0.0.1');
  await assert.rejects(service(fakeRuntime([sandbox({ state: 'exited' })]).runtime).podIP(pod), (e: { code?: number }) => e.code === grpc.status.NOT_FOUND);
});
