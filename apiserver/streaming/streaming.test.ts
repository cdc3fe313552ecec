import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors';
import { CLOSE, ERROR, RESIZE, STDIN, STDOUT, V4, V5, exitStatus, frame, parseIncoming, portPrefix, selectProtocol, EXEC_PROTOCOLS } from './channels';
import { parseExecOptions, parseLogOptions, parsePorts, resolveContainer } from './options';

test('subprotocol negotiation prefers v5, accepts v4, refuses the rest', () => {
  assert.equal(selectProtocol('v5.channel.k8s.io', EXEC_PROTOCOLS), V5);
  assert.equal(selectProtocol('v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io', EXEC_PROTOCOLS), V5);
  assert.equal(selectProtocol(new Set(['v4.channel.k8s.io', 'channel.k8s.io']), EXEC_PROTOCOLS), V4);
  assert.equal(selectProtocol('channel.k8s.io', EXEC_PROTOCOLS), undefined);
  assert.equal(selectProtocol(undefined, EXEC_PROTOCOLS), undefined);
});

test('frames carry the channel in byte 0', () => {
  assert.deepEqual([...frame(STDOUT, 'hi')], [1, 0x68, 0x69]);
  assert.deepEqual([...frame(ERROR, Buffer.alloc(0))], [3]);
});

test('incoming messages: stdin, resize, close (v5 only), junk ignored', () => {
  assert.deepEqual(parseIncoming(Buffer.from([STDIN, 0x61]), V5), { kind: 'stdin', data: Buffer.from('a') });
  assert.deepEqual(parseIncoming(Buffer.concat([Buffer.from([RESIZE]), Buffer.from('{"Width":80,"Height":24}')]), V5), { kind: 'resize', width: 80, height: 24 });
  assert.deepEqual(parseIncoming(Buffer.concat([Buffer.from([RESIZE]), Buffer.from('{bad')]), V5), { kind: 'ignore' });
  assert.deepEqual(parseIncoming(Buffer.from([CLOSE, STDIN]), V5), { kind: 'close', channel: 0 });
  assert.deepEqual(parseIncoming(Buffer.from([CLOSE, STDIN]), V4), { kind: 'ignore' });
  assert.deepEqual(parseIncoming(Buffer.from([STDIN]), V5), { kind: 'ignore' });
  assert.deepEqual(parseIncoming(Buffer.alloc(0), V5), { kind: 'ignore' });
});

test('exit statuses: Success, or NonZeroExitCode with an ExitCode cause', () => {
  assert.deepEqual(exitStatus(0), { metadata: {}, status: 'Success' });
  const s = exitStatus(3, ['sh', '-c', 'exit 3']) as any;
  assert.equal(s.status, 'Failure');
  assert.equal(s.reason, 'NonZeroExitCode');
  assert.deepEqual(s.details.causes, [{ reason: 'ExitCode', message: '3' }]);
  assert.match(s.message, /\[sh -c exit 3\], exit code 3/);
});

test('port prefix is 2 bytes little endian', () => {
  assert.deepEqual([...portPrefix(8080)], [0x90, 0x1f]);
});

test('log options parse and validate like Kubernetes', () => {
  assert.deepEqual(parseLogOptions({}), { container: undefined, follow: false, previous: false, timestamps: false, tailLines: undefined, sinceSeconds: undefined, sinceTime: undefined, limitBytes: undefined });
  const o = parseLogOptions({ container: 'c', follow: 'true', previous: 'true', timestamps: 'true', tailLines: '10', sinceSeconds: '60', limitBytes: '100' });
  assert.deepEqual(o, { container: 'c', follow: true, previous: true, timestamps: true, tailLines: 10, sinceSeconds: 60, sinceTime: undefined, limitBytes: 100 });
  assert.equal(parseLogOptions({ tailLines: '0' }).tailLines, 0);
  // booleans as the Kubernetes apiserver reads them (the Python client sends follow=True): only 0 and false are false
  assert.deepEqual([parseLogOptions({ follow: 'True' }).follow, parseLogOptions({ follow: 'T' }).follow, parseLogOptions({ follow: 'FALSE' }).follow, parseLogOptions({ follow: '0' }).follow], [true, true, false, false]);
  for (const bad of [{ tailLines: '-1' }, { tailLines: 'x' }, { sinceSeconds: '0' }, { limitBytes: '0' }, { sinceSeconds: '5', sinceTime: '2024-01-01T00:00:00Z' }, { sinceTime: 'yesterday' }]) {
    assert.throws(() => parseLogOptions(bad), (e: unknown) => e instanceof ApiError && e.code === 400, JSON.stringify(bad));
  }
});

test('exec options: commands repeat, at least one stream, tty drops stderr', () => {
  assert.deepEqual(parseExecOptions({ command: ['sh', '-c', 'echo hi'], stdout: 'true', stderr: 'true' }), { container: undefined, command: ['sh', '-c', 'echo hi'], stdin: false, stdout: true, stderr: true, tty: false });
  assert.equal(parseExecOptions({ command: 'sh', stdin: 'true', stdout: 'true', stderr: 'true', tty: 'true' }).stderr, false);
  assert.throws(() => parseExecOptions({ stdout: 'true' }), /at least one command/);
  assert.throws(() => parseExecOptions({ command: 'ls' }), /at least 1 of stdin, stdout, stderr/);
});

test('ports parse from repeated or comma-separated values', () => {
  assert.deepEqual(parsePorts({ ports: ['80', '8080'] }), [80, 8080]);
  assert.deepEqual(parsePorts({ ports: '80,443' }), [80, 443]);
  assert.throws(() => parsePorts({}));
  assert.throws(() => parsePorts({ ports: '70000' }));
});

test('container resolution: the only one, a named one, or Kubernetes\' messages', () => {
  const one = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }] } };
  const two = { metadata: { name: 'web' }, spec: { containers: [{ name: 'a' }, { name: 'b' }], initContainers: [{ name: 'init' }] } };
  assert.equal(resolveContainer(one, undefined), 'a');
  assert.equal(resolveContainer(two, 'b'), 'b');
  assert.equal(resolveContainer(two, 'init'), 'init');
  assert.throws(() => resolveContainer(two, undefined), (e: unknown) => e instanceof ApiError && e.code === 400 &&
    e.message === 'a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [init]');
  assert.throws(() => resolveContainer(two, 'zzz'), (e: unknown) => e instanceof ApiError && e.code === 400 && e.message === 'container zzz is not valid for pod web');
});
