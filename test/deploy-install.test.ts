/**
 * deploy/install.sh brings up a cluster over real SSH (issue 11, acceptance 2): a bed of three
 * hosts (network namespaces, each with its own dockerd and an OpenSSH server), two servers and
 * one agent, installed from one release tarball as an operator would from a checkout. The admin
 * kubeconfig it copies back shows three Ready nodes with their own addresses (the real kubectl).
 * A re-run leaves the running nodes alone, a new release restarts them all (servers one at a
 * time) into the same cluster, the join token is on no process's command line, and
 * `node.sh uninstall --purge` takes a host away.
 *
 * The hosts share one file system, so each gets its own install prefix, environment file,
 * COXSWAIN_HOME and log folder under its bed folder (the installer's per-host settings); systemd
 * is not PID 1 in a bed host, so the installer starts the nodes with nohup (--mode nohup).
 *
 * Run under the e2e lock: flock /tmp/coxswain-e2e.lock node --test dist/test/deploy-install.test.js
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { bedUnavailable, createBed, createSshKeyPair, sshClient, startSshd, type Bed, type BedHost } from './lib/bed';
import { run } from './lib/bed-run';
import { REPO } from './lib/cluster';
import { waitFor } from './lib/util';

const INSTALL = path.join(REPO, 'deploy/install.sh');
const COXSWAIN = path.join(REPO, 'bin/coxswain.js');

/** Why this test cannot run here, or false. */
async function skipReason(): Promise<string | false> {
  const bed = bedUnavailable();
  if (bed) return bed;
  for (const p of ['/usr/sbin/sshd', '/usr/bin/ssh']) if (!existsSync(p)) return `no ${p} (Debian openssh-server, openssh-client)`;
  return false;
}

/** Settings the installer gives one host: its own folders (the bed shares one file system) and its dockerd. */
function hostArgs(role: 'server' | 'agent', h: BedHost): string[] {
  return [`--${role}`, `root@${h.ip}`, '--node-name', h.name,
    '--prefix', path.join(h.dir, 'opt/coxswain'), '--etc-dir', path.join(h.dir, 'etc'), '--home', path.join(h.dir, 'home'),
    '--log-dir', path.join(h.dir, 'log'), '--docker-host', h.dockerHost];
}

interface NodeList { items: { metadata: { name: string }; status?: { addresses?: { type: string; address: string }[]; conditions?: { type: string; status: string }[] } }[] }

async function kubectlNodes(kubeconfig: string): Promise<NodeList> {
  const r = await run('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=5s', 'get', 'nodes', '-o', 'json'], { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(r.stderr.trim());
  return JSON.parse(r.stdout) as NodeList;
}

/** The pid in a host's nohup pid file (the installer's record of the node process). */
function nodePid(h: BedHost, role: string): number {
  return Number(readFileSync(path.join(h.dir, 'log', `coxswain-${role}.pid`), 'utf8').trim());
}

test('deploy/install.sh installs two servers and an agent over SSH; kubectl sees three Ready nodes', { timeout: 900_000 }, async (t) => {
  const skip = await skipReason();
  if (skip) {
    t.skip(skip);
    return;
  }
  const bed: Bed = await createBed({ prefix: 'cxdi', hosts: 3 });
  t.after(() => bed.destroy());
  const [h1, h2, h3] = bed.hosts as [BedHost, BedHost, BedHost];
  const key = await createSshKeyPair(path.join(bed.dir, 'client', 'id_ed25519'));
  const sshds = await Promise.all(bed.hosts.map((h) => startSshd(h, { authorizedKeys: [key.publicKey] })));
  const ssh = sshClient(path.join(bed.dir, 'client'), key, sshds);

  // One release, as install.sh would build it (dist/ is fresh: the test runner compiles first).
  const tarball = path.join(bed.dir, 'coxswain.tar.gz');
  const built = await run('bash', [path.join(REPO, 'deploy/release.sh'), '--no-build', '--out', tarball], { timeoutMs: 300_000 });
  assert.equal(built.code, 0, built.stderr);

  const kubeconfig = path.join(bed.dir, 'client', 'kubeconfig');
  const install = () => run('bash', [INSTALL, '--mode', 'nohup', '--tarball', tarball, '--kubeconfig', kubeconfig, '--wait', '240',
    '--ssh-opts', ssh.options.join(' '), ...hostArgs('server', h1), ...hostArgs('server', h2), ...hostArgs('agent', h3)], { timeoutMs: 600_000 });

  const started = Date.now();
  const first = await install();
  const log = `${first.stdout}${first.stderr}`;
  t.diagnostic(`install.sh brought up 3 hosts in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(first.code, 0, log);
  assert.match(log, /no systemd as PID 1 here/, 'the installer says why it uses nohup');
  for (const [h, role] of [[h1, 'server'], [h2, 'server'], [h3, 'agent']] as const) {
    assert.match(log, new RegExp(`\\[root@${h.ip.replace(/\./g, '\\.')}\\] coxswain: ${role} ready`), log);
  }
  assert.ok(existsSync(kubeconfig), 'the admin kubeconfig was copied back');
  assert.match(readFileSync(kubeconfig, 'utf8'), new RegExp(`server: https://${h1.ip.replace(/\./g, '\\.')}:6443`));

  // Three Ready nodes, each with its own host's address: the joins went to one cluster.
  const ready = await waitFor('three Ready nodes h1, h2, h3', async () => {
    const nodes = await kubectlNodes(kubeconfig);
    const readyOnes = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return readyOnes.length === 3 ? nodes : undefined;
  }, 180_000, 1_000);
  assert.deepEqual(ready.items.map((n) => n.metadata.name).sort(), ['h1', 'h2', 'h3'],
    'one cluster of three (a joining host that created a cluster of its own would be missing: coxswain must read COXSWAIN_SERVER/COXSWAIN_TOKEN from coxswain.env)');
  for (const h of bed.hosts) {
    const node = ready.items.find((n) => n.metadata.name === h.name)!;
    assert.equal(node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, h.ip);
  }

  // The token travels in coxswain.env (mode 0600), never on a command line others can read.
  const token = readFileSync(path.join(h1.dir, 'home', 'token'), 'utf8').trim();
  assert.ok(token.length > 0);
  for (const h of [h2, h3]) {
    const env = path.join(h.dir, 'etc', 'coxswain.env');
    assert.match(readFileSync(env, 'utf8'), new RegExp(`^COXSWAIN_TOKEN=${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    assert.equal(statSync(env).mode & 0o777, 0o600);
  }
  const cmdlines = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  });
  assert.ok(cmdlines.some((c) => c.includes('coxswain.js')), 'the nodes run');
  assert.equal(cmdlines.filter((c) => c.includes(token)).length, 0, 'no process has the token on its command line');

  // A re-run with the same release and settings leaves every running node alone.
  const pids = [nodePid(h1, 'server'), nodePid(h2, 'server'), nodePid(h3, 'agent')];
  const again = await install();
  assert.equal(again.code, 0, `${again.stdout}${again.stderr}`);
  assert.equal((again.stdout.match(/unchanged: .* left alone/g) ?? []).length, 3, again.stdout);
  assert.deepEqual([nodePid(h1, 'server'), nodePid(h2, 'server'), nodePid(h3, 'agent')], pids);
  assert.equal((await kubectlNodes(kubeconfig)).items.length, 3);

  // A new release (the same tree under another release id) is installed everywhere and every
  // node restarts, the joined server alone after the first; the cluster comes back whole.
  const next = path.join(bed.dir, 'next');
  await mkdir(next);
  assert.equal((await run('tar', ['-xzf', tarball, '-C', next])).code, 0);
  writeFileSync(path.join(next, 'RELEASE'), readFileSync(path.join(next, 'RELEASE'), 'utf8').replace(/\n$/, '-next\n'));
  assert.equal((await run('tar', ['-czf', tarball, '-C', next, '.'])).code, 0);
  const upgradeStarted = Date.now();
  const upgrade = await install();
  t.diagnostic(`the upgrade took ${((Date.now() - upgradeStarted) / 1000).toFixed(1)} s: ${upgrade.stdout.split('\n').filter((l) => /stop|ready/.test(l)).join(' | ')}`);
  assert.equal(upgrade.code, 0, `${upgrade.stdout}${upgrade.stderr}`);
  assert.match(upgrade.stdout, new RegExp(`updating the installed server root@${h2.ip.replace(/\./g, '\\.')} \\(one at a time\\)`));
  assert.equal((upgrade.stdout.match(/installed coxswain .*-next at .* \(was coxswain /g) ?? []).length, 3, upgrade.stdout);
  const restarted = [nodePid(h1, 'server'), nodePid(h2, 'server'), nodePid(h3, 'agent')];
  restarted.forEach((p, i) => assert.notEqual(p, pids[i]));
  await waitFor('three Ready nodes after the upgrade', async () => {
    const nodes = await kubectlNodes(kubeconfig);
    return nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === 3;
  }, 120_000, 1_000);
  pids.splice(0, 3, ...restarted);

  // Uninstall the agent over SSH: its process ends and its install is gone.
  const h3Flags = ['--mode', 'nohup', '--prefix', path.join(h3.dir, 'opt/coxswain'), '--etc-dir', path.join(h3.dir, 'etc'),
    '--home', path.join(h3.dir, 'home'), '--log-dir', path.join(h3.dir, 'log'), '--docker-host', h3.dockerHost];
  const removed = await run('ssh', [...ssh.options, `root@${h3.ip}`, ['bash', path.join(h3.dir, 'opt/coxswain/deploy/node.sh'), 'uninstall', '--purge', ...h3Flags].join(' ')], { timeoutMs: 120_000 });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(existsSync(path.join(h3.dir, 'opt/coxswain')), false);
  assert.equal(existsSync(path.join(h3.dir, 'home')), false);
  await waitFor('the agent process to end', () => {
    try {
      process.kill(pids[2]!, 0);
      return false;
    } catch {
      return true;
    }
  }, 30_000);
});
