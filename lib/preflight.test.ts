import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHost, dockerSocket, type HostProbes } from './preflight';

function probes(over: Partial<{ root: boolean; commands: string[]; docker: Record<string, string | undefined> }> = {}): HostProbes & { pinged: string[] } {
  const pinged: string[] = [];
  const commands = over.commands ?? ['ip', 'iptables'];
  return {
    pinged,
    isRoot: () => over.root ?? true,
    hasCommand: (n) => commands.includes(n),
    pingDocker: async (s) => {
      pinged.push(s);
      return over.docker ? over.docker[s] : undefined;
    },
  };
}

test('a host with root, ip, iptables and an answering engine passes', async () => {
  const p = probes();
  assert.equal(await checkHost(p, {}), undefined);
  assert.deepEqual(p.pinged, ['/var/run/docker.sock']);
});

test('each missing piece is one line naming it and what to do', async () => {
  assert.match((await checkHost(probes({ root: false }), {}))!, /^not running as root: .*sudo/);
  assert.match((await checkHost(probes({ commands: ['iptables'] }), {}))!, /^`ip` is not on the PATH: .*install iproute2/);
  assert.match((await checkHost(probes({ commands: ['ip'] }), {}))!, /^`iptables` is not on the PATH: .*install iptables/);
  const line = (await checkHost(probes({ docker: { '/var/run/docker.sock': 'ENOENT' } }), {}))!;
  assert.match(line, /^no Docker engine answers on \/var\/run\/docker.sock \(ENOENT\): start it/);
  assert.ok(!line.includes('\n'));
});

test('DOCKER_HOST names the socket as the docker CLI reads it; a tcp endpoint is refused', async () => {
  assert.deepEqual(dockerSocket({ DOCKER_HOST: 'unix:///run/d/docker.sock' }), { socket: '/run/d/docker.sock' });
  assert.deepEqual(dockerSocket({}), { socket: '/var/run/docker.sock' });
  const p = probes({ docker: { '/run/d/docker.sock': 'ECONNREFUSED' } });
  assert.match((await checkHost(p, { DOCKER_HOST: 'unix:///run/d/docker.sock' }))!, /on \/run\/d\/docker.sock \(ECONNREFUSED\)/);
  assert.match((await checkHost(probes(), { DOCKER_HOST: 'tcp://10.0.0.1:2375' }))!, /^DOCKER_HOST=tcp:\/\/10.0.0.1:2375 is not a unix:\/\/ socket/);
});
