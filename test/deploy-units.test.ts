/**
 * deploy/: the systemd units pass `systemd-analyze verify`, and the release tarball the
 * installer copies to hosts runs from its install directory alone (no checkout, no dev
 * dependencies, no registry).
 *
 * systemd checks that ExecStart's program exists, so the units are verified twice: as shipped
 * (when this machine has /usr/bin/node, as the target hosts do), and as the installer renders
 * them for an install directory (`deploy/node.sh render-unit`, the code path of a real install)
 * pointing at an unpacked release, whose bin/coxswain.js this test checks exists and runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './lib/cluster';

const UNITS = ['coxswain-server.service', 'coxswain-agent.service'];
const haveSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const SKIP_NO_SYSTEMD = haveSystemdAnalyze ? false : 'systemd-analyze is not installed (Debian package systemd)';

function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 }, (_err, stdout, stderr) => {
      resolve({ code: p.exitCode, stdout, stderr });
    });
  });
}

/** `systemd-analyze verify` of unit files, with no daemon-reload or running systemd needed. */
async function verify(files: string[]): Promise<void> {
  const r = await run('systemd-analyze', ['verify', ...files]);
  assert.equal(r.code, 0, `systemd-analyze verify failed:\n${r.stderr}${r.stdout}`);
  assert.equal(r.stderr.trim(), '', `systemd-analyze verify warned:\n${r.stderr}`);
}

/** The value of each `Key=` line of a unit. */
function directives(unit: string, key: string): string[] {
  return unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
}

test('the units as shipped pass systemd-analyze verify', { skip: SKIP_NO_SYSTEMD || (existsSync('/usr/bin/node') ? false : 'no /usr/bin/node here (the units name it)') }, async () => {
  await verify(UNITS.map((u) => path.join(REPO, 'deploy', u)));
  for (const u of UNITS) {
    const unit = readFileSync(path.join(REPO, 'deploy', u), 'utf8');
    const role = u.includes('server') ? 'server' : 'agent';
    assert.deepEqual(directives(unit, 'ExecStart'), [`/usr/bin/node /opt/coxswain/bin/coxswain.js ${role} $COXSWAIN_EXTRA_FLAGS`]);
    assert.deepEqual(directives(unit, 'EnvironmentFile'), ['/etc/coxswain/coxswain.env']);
    assert.deepEqual(directives(unit, 'KillMode'), ['mixed']);
    assert.deepEqual(directives(unit, 'Restart'), ['always']);
  }
});

test('the release tarball installs elsewhere, runs without the checkout, and its rendered units verify', { skip: SKIP_NO_SYSTEMD }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-release-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tarball = path.join(dir, 'coxswain.tar.gz');
  // dist/ is fresh: the test runner compiles before it runs tests
  const built = await run('bash', [path.join(REPO, 'deploy/release.sh'), '--no-build', '--out', tarball], { cwd: REPO, timeoutMs: 300_000 });
  assert.equal(built.code, 0, built.stderr);
  assert.equal(built.stdout.trim().split('\n').pop(), tarball);

  const prefix = path.join(dir, 'opt', 'coxswain');
  await mkdir(prefix, { recursive: true });
  const unpacked = await run('tar', ['-xzf', tarball, '-C', prefix]);
  assert.equal(unpacked.code, 0, unpacked.stderr);
  assert.match(readFileSync(path.join(prefix, 'RELEASE'), 'utf8'), /^coxswain \d+\.\d+\.\d+ \S+ [0-9a-f]{16}\n$/);
  assert.equal(existsSync(path.join(prefix, 'node_modules/typescript')), false, 'dev dependencies are pruned');
  assert.equal(existsSync(path.join(prefix, 'node_modules/fastify')), true, 'production dependencies are there');
  assert.equal(existsSync(path.join(prefix, 'dist/test')), false, 'no compiled tests');
  assert.deepEqual(readdirSync(path.join(prefix, 'dist/apiserver')).filter((f) => f.endsWith('.test.js')), []);

  // From a directory outside the checkout, so nothing resolves through the repository.
  const version = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version as string;
  const ran = await run(process.execPath, [path.join(prefix, 'bin/coxswain.js'), '--version'], { cwd: dir });
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, `coxswain ${version}\n`);

  const unitDir = path.join(dir, 'units');
  await mkdir(unitDir);
  for (const u of UNITS) {
    const role = u.includes('server') ? 'server' : 'agent';
    const rendered = await run('bash', [path.join(prefix, 'deploy/node.sh'), 'render-unit', '--role', role, '--prefix', prefix,
      '--etc-dir', path.join(dir, 'etc'), '--home', path.join(dir, 'home'), '--node', process.execPath]);
    assert.equal(rendered.code, 0, rendered.stderr);
    const [exec] = directives(rendered.stdout, 'ExecStart');
    assert.equal(exec, `${process.execPath} ${prefix}/bin/coxswain.js ${role} $COXSWAIN_EXTRA_FLAGS`);
    // systemd checks the program; the script it runs must exist too
    assert.equal(existsSync(exec!.split(' ')[1]!), true);
    assert.deepEqual(directives(rendered.stdout, 'EnvironmentFile'), [path.join(dir, 'etc', 'coxswain.env')]);
    assert.deepEqual(directives(rendered.stdout, 'Environment'), [`COXSWAIN_HOME=${path.join(dir, 'home')}`]);
    await writeFile(path.join(unitDir, u), rendered.stdout);
  }
  await verify(UNITS.map((u) => path.join(unitDir, u)));

  // and verify does fail when the program is not there, so the check above means something
  const broken = readFileSync(path.join(unitDir, UNITS[0]!), 'utf8').replace(process.execPath, path.join(dir, 'no-such-node'));
  await writeFile(path.join(unitDir, UNITS[0]!), broken);
  const r = await run('systemd-analyze', ['verify', path.join(unitDir, UNITS[0]!)]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no-such-node is not executable/);
});

test('install.sh refuses bad command lines in one line, before it builds or copies anything', async () => {
  const cases: [string[], RegExp][] = [
    [[], /^install\.sh: no hosts: give at least one --server user@host/],
    [['--agent', 'root@10.0.0.14', '--server', 'root@10.0.0.11'], /^install\.sh: the first host must be a --server: it creates the cluster/],
    [['--node-ip', '10.0.0.11', '--server', 'root@10.0.0.11'], /^install\.sh: --node-ip belongs after the --server or --agent it applies to/],
    [['--server'], /^install\.sh: --server needs a target \(user@host\)/],
    [['--server', 'root@10.0.0.11', '--colour'], /^install\.sh: unknown argument --colour/],
  ];
  for (const [args, message] of cases) {
    const r = await run('bash', [path.join(REPO, 'deploy/install.sh'), ...args], { cwd: os.tmpdir() });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', 'nothing was started');
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
