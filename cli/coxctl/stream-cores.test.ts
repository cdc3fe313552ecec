import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from 'kubernetes-types/core/v1';
import { parseFileSpec, planExtract, stripPathShortcuts } from './cp';
import { reportExec, validateExec } from './exec';
import { LinePrefixer, logQuery, sourcesFor } from './logs';
import { hostPort, listenAddresses, parsePorts, podPorts, servicePorts } from './port-forward-ports';
import { execResult } from './remotecommand';

const pod = { metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [{ name: 'a', ports: [{ name: 'http', containerPort: 8080 }] }, { name: 'b' }], initContainers: [{ name: 'i' }] } } as Pod;

test('logs: query from flags, 10 lines with a selector, kubectl checks', () => {
  assert.deepEqual(logQuery({ follow: true, tail: '5', timestamps: true }), { follow: true, previous: undefined, timestamps: true, tailLines: 5, limitBytes: undefined, sinceSeconds: undefined, sinceTime: undefined });
  assert.equal(logQuery({ selector: 'app=x' }).tailLines, 10);
  assert.equal(logQuery({ selector: 'app=x', tail: '-1' }).tailLines, undefined);
  assert.equal(logQuery({ since: '2m' }).sinceSeconds, 120);
  assert.throws(() => logQuery({ tail: '-2' }), /--tail must be greater than or equal to -1/);
  assert.throws(() => logQuery({ since: '1s', sinceTime: '2026-01-01T00:00:00Z' }), /at most one of/);
});

test('logs: containers of a pod', () => {
  assert.deepEqual(sourcesFor(pod, {}), { sources: [{ namespace: 'ns', pod: 'p', container: 'a' }], notes: 'Defaulted container "a" out of: a, b, i (init)\n' });
  assert.deepEqual(sourcesFor(pod, { allContainers: true }).sources.map((s) => s.container), ['i', 'a', 'b']);
  assert.throws(() => sourcesFor(pod, { container: 'z' }), /container z is not valid for pod p/);
});

test('logs --prefix: whole lines, each prefixed; a last partial line at the end', () => {
  let out = '';
  const w = new LinePrefixer('[pod/p/a] ', (s) => (out += s));
  w.write('one\ntw');
  w.write('o\nthr');
  assert.equal(out, '[pod/p/a] one\n[pod/p/a] two\n');
  w.end();
  assert.equal(out, '[pod/p/a] one\n[pod/p/a] two\n[pod/p/a] thr');
});

test('exec: argument checks, the Status on channel 3, and kubectl\'s exit line', () => {
  assert.throws(() => validateExec('p', [], true, []), /at least one command/);
  assert.throws(() => validateExec('p', [], false, ['ls']), /Use exec \[POD\] -- \[COMMAND\] instead/);
  assert.throws(() => validateExec(undefined, ['ls'], true, []), /pod, type\/name or --filename must be specified/);
  assert.deepEqual(execResult('{"status":"Success"}'), { kind: 'exit', code: 0 });
  const failed = execResult(JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '42' }] } }));
  assert.deepEqual(reportExec(failed), { code: 42, stderr: 'command terminated with exit code 42\n' });
  assert.deepEqual(reportExec(execResult('{"status":"Failure","message":"no such container"}')), { code: 1, stderr: 'error: no such container\n' });
  assert.equal(execResult(undefined).kind, 'error');
});

test('port-forward: specs, named pod ports, Service ports to target ports, addresses', () => {
  assert.deepEqual(podPorts(['8080', '9000:http', ':http'], pod), ['8080', '9000:8080', ':8080']);
  assert.throws(() => podPorts(['x'], pod), /does not have a named port 'x'/);
  const svc = { metadata: { name: 's' }, spec: { ports: [{ name: 'front', port: 80, targetPort: 'http' }, { port: 81, targetPort: 9090 }, { port: 82 }] } } as Service;
  assert.deepEqual(servicePorts(['80', 'front', '7000:81', '82'], svc, pod), ['80:8080', '80:8080', '7000:9090', '82']);
  assert.throws(() => servicePorts(['99'], svc, pod), /Service s does not have a service port 99/);
  assert.deepEqual(parsePorts(['80:8080', ':8080', '8080']), [{ local: 80, remote: 8080 }, { local: 0, remote: 8080 }, { local: 8080, remote: 8080 }]);
  assert.throws(() => parsePorts(['0']), /Error parsing remote port '0'/);
  assert.deepEqual(listenAddresses(['localhost']).map((a) => a.address), ['127.0.0.1', '::1']);
  assert.deepEqual(listenAddresses(['0.0.0.0,::']).map((a) => [a.address, a.family]), [['0.0.0.0', 4], ['::', 6]]);
  assert.throws(() => listenAddresses(['example.com']), /is not a valid IP/);
  assert.equal(hostPort('::1', 80), '[::1]:80');
});

test('cp: file specs, path shortcuts, and where archive entries land', () => {
  assert.deepEqual(parseFileSpec('/tmp/x/'), { file: '/tmp/x' });
  assert.deepEqual(parseFileSpec('pod:/tmp/x'), { pod: 'pod', file: '/tmp/x' });
  assert.deepEqual(parseFileSpec('ns/pod:tmp'), { namespace: 'ns', pod: 'pod', file: 'tmp' });
  assert.throws(() => parseFileSpec(':x'), /canonical format/);
  assert.equal(stripPathShortcuts('../../a/b'), 'a/b');
  assert.equal(stripPathShortcuts('..'), '');
  const plan = planExtract(
    [
      { name: 'tmp/up', type: 'dir', mode: 0o755, mtime: 0 },
      { name: 'tmp/up/a', type: 'file', mode: 0o644, mtime: 0 },
      { name: 'tmp/up/../../evil', type: 'file', mode: 0o644, mtime: 0 },
      { name: 'tmp/up/l', type: 'symlink', mode: 0o777, mtime: 0, linkname: '/etc/passwd' },
    ],
    '/tmp/up',
    'out',
  );
  assert.deepEqual(plan.writes.map((w) => w.target), ['out', 'out/a']);
  assert.deepEqual(plan.warnings, ['warning: file "../evil" is outside target destination, skipping\n', 'warning: skipping symlink: "out/l" -> "/etc/passwd"\n']);
  assert.throws(() => planExtract([{ name: 'etc/x', type: 'file', mode: 0, mtime: 0 }], '/tmp/up', 'out'), /tar contents corrupted/);
});
