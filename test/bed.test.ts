/**
 * The multi-host test bed itself (test/lib/bed.ts): two hosts with their own dockerd run
 * containers, reach each other over TCP, lose each other when one is cut (new connections fail,
 * an open one stalls) and find each other again when it is restored; an sshd inside a host lets
 * the root namespace run commands there; destroy leaves nothing behind.
 * Needs root, iproute2, iptables, nsenter and dockerd; skipped without them.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { bedUnavailable, createBed, createSshKeyPair, dockerdPid, sshClient, startSshd, type Bed, type BedHost } from './lib/bed';
import { alive, run } from './lib/bed-run';
import { waitFor } from './lib/util';

const PORT = 7777;

/** An echo server on the host's address, started in its namespace; resolves once it listens. */
async function echoServer(bed: Bed, host: BedHost): Promise<ChildProcess> {
  const script = `require('net').createServer((s) => s.pipe(s)).listen(${PORT}, process.argv[1], () => console.log('listening'))`;
  const child = bed.spawn(host, process.execPath, ['-e', script, host.ip], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
    child.on('exit', (code) => reject(new Error(`echo server in ${host.name} exited with ${code}`)));
  });
  return child;
}

/** From inside `from`: opens a TCP connection to ip:PORT and gets 'hi' echoed, within 3 s. */
const PROBE = `const s = require('net').connect(${PORT}, process.argv[1]);
s.setTimeout(3000, () => { console.log('timeout'); process.exit(2); });
s.on('error', (e) => { console.log(e.code); process.exit(1); });
s.on('connect', () => s.write('hi'));
s.on('data', (d) => { console.log('echo ' + d); process.exit(0); });`;

async function reaches(bed: Bed, from: BedHost, ip: string): Promise<boolean> {
  const r = await bed.exec(from, process.execPath, ['-e', PROBE, ip], { timeoutMs: 10_000 });
  return r.code === 0 && r.stdout.includes('echo hi');
}

test('multi-host bed', { skip: bedUnavailable() ?? false, timeout: 300_000 }, async (t) => {
  const bed = await createBed({ prefix: 'cxt', hosts: 2 });
  t.after(() => bed.destroy());
  const [h1, h2] = bed.hosts;
  const docker = (h: BedHost, ...args: string[]) => run('docker', ['-H', h.dockerHost, ...args], { timeoutMs: 60_000 });

  await t.test('each host runs containers on its own dockerd', async () => {
    const ids: string[] = [];
    for (const h of bed.hosts) {
      const r = await docker(h, 'run', '-d', 'busybox:1.36', 'sleep', '300');
      assert.equal(r.code, 0, r.stderr);
      ids.push(r.stdout.trim());
    }
    for (const [i, h] of bed.hosts.entries()) {
      const ps = await docker(h, 'ps', '-q', '--no-trunc');
      assert.deepEqual(ps.stdout.split('\n').filter(Boolean), [ids[i]], `${h.name} lists only its own container`);
    }
    // A command run in a host sees that host's dockerd through DOCKER_HOST.
    const inside = await bed.exec(h2, 'docker', ['ps', '-q', '--no-trunc']);
    assert.equal(inside.stdout.trim(), ids[1]);
  });

  await t.test('a host has its address on the interface of its default route', async () => {
    const route = await bed.exec(h1, 'ip', ['-4', 'route', 'show', 'default']);
    assert.match(route.stdout, new RegExp(`default via ${bed.gateway.replace(/\./g, '\\.')} dev eth0`));
    const addr = await bed.exec(h1, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(addr.stdout, new RegExp(`inet ${h1.ip.replace(/\./g, '\\.')}/24`));
  });

  const servers = [await echoServer(bed, h1), await echoServer(bed, h2)];

  await t.test('hosts reach each other (ping and TCP)', async () => {
    const ping = await bed.exec(h1, 'busybox', ['ping', '-c', '1', '-W', '2', h2.ip]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.ok(await reaches(bed, h1, h2.ip), 'h1 reaches h2');
    assert.ok(await reaches(bed, h2, h1.ip), 'h2 reaches h1');
  });

  await t.test('a cut host reaches nothing and nothing reaches it; restore brings it back', async () => {
    // A connection opened before the cut: a line written to it is echoed back.
    const client = bed.spawn(h1, process.execPath, ['-e',
      `const s = require('net').connect(${PORT}, process.argv[1], () => console.log('connected'));
       s.on('data', (d) => process.stdout.write('got ' + d + '\\n'));
       process.stdin.on('data', (d) => s.write(d.toString().trim()));`, h2.ip], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    client.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    await waitFor('the open connection from h1 to h2', () => out.includes('connected'), 10_000);
    client.stdin?.write('before\n');
    await waitFor('the echo on the open connection', () => out.includes('got before'), 10_000);

    await bed.cut(h2);
    const [h1ToH2, h2ToH1, fromRoot] = await Promise.all([
      reaches(bed, h1, h2.ip),
      reaches(bed, h2, h1.ip),
      run(process.execPath, ['-e', PROBE, h2.ip], { timeoutMs: 10_000 }),
    ]);
    assert.equal(h1ToH2, false, 'h1 must not reach a cut h2');
    assert.equal(h2ToH1, false, 'a cut h2 must not reach h1');
    assert.notEqual(fromRoot.code, 0, 'the root namespace must not reach a cut h2');
    // The open connection stalls: what h1 writes is retransmitted, never acknowledged.
    client.stdin?.write('during\n');
    await waitFor('h1 to retransmit on the open connection', async () => {
      const ss = await bed.exec(h1, 'ss', ['-tni', 'dst', `${h2.ip}:${PORT}`]);
      return /retrans:\d+\/[1-9]/.test(ss.stdout);
    }, 15_000);
    assert.ok(!out.includes('got during'), 'no echo through a cut link');

    await bed.restore(h2);
    await waitFor('h1 to reach h2 again', () => reaches(bed, h1, h2.ip), 30_000);
    await waitFor('h2 to reach h1 again', () => reaches(bed, h2, h1.ip), 30_000);
    await waitFor('the stalled connection to deliver after the restore', () => out.includes('got during'), 60_000);
    client.kill();
  });

  await t.test('sshd inside a host runs commands for the root namespace', { skip: existsSync('/usr/sbin/sshd') ? false : 'no /usr/sbin/sshd (openssh-server)' }, async () => {
    const key = await createSshKeyPair(path.join(bed.dir, 'client', 'id_ed25519'));
    const sshd = await startSshd(h1, { authorizedKeys: [key.publicKey] });
    const client = sshClient(path.join(bed.dir, 'client'), key, [sshd]);
    const ok = await run('ssh', [...client.options, `root@${h1.ip}`, 'true'], { timeoutMs: 30_000 });
    assert.equal(ok.code, 0, ok.stderr);
    // The session is in h1's network namespace, with h1's dockerd as DOCKER_HOST.
    const where = await run('ssh', ['-F', client.configFile, h1.name, 'ip -4 -o addr show dev eth0; echo $DOCKER_HOST'], { timeoutMs: 30_000 });
    assert.equal(where.code, 0, where.stderr);
    assert.match(where.stdout, new RegExp(`inet ${h1.ip.replace(/\./g, '\\.')}/`));
    assert.ok(where.stdout.includes(h1.dockerHost), where.stdout);
    // A key that was not authorized is refused.
    const other = await createSshKeyPair(path.join(bed.dir, 'client', 'other'));
    const refused = await run('ssh', [...client.options.filter((o) => o !== key.privateKeyFile && o !== '-i'), '-i', other.privateKeyFile, `root@${h1.ip}`, 'true'], { timeoutMs: 30_000 });
    assert.notEqual(refused.code, 0);
  });

  await t.test('destroy leaves no namespace, link, rule, process or folder behind', async () => {
    const dockerds = bed.hosts.map(dockerdPid);
    assert.ok(dockerds.every((p) => p !== undefined), 'both dockerds ran');
    const containerPids: number[] = [];
    for (const h of bed.hosts) {
      for (const id of (await docker(h, 'ps', '-q')).stdout.split('\n').filter(Boolean)) {
        containerPids.push(Number((await docker(h, 'inspect', '-f', '{{.State.Pid}}', id)).stdout.trim()));
      }
    }
    assert.equal(containerPids.length, 2);
    await bed.destroy();
    assert.doesNotMatch((await run('ip', ['netns', 'list'])).stdout, /^cxt-/m);
    assert.doesNotMatch((await run('ip', ['-o', 'link', 'show'])).stdout, /: cxt/);
    assert.doesNotMatch((await run('iptables', ['-w', '-S', 'FORWARD'])).stdout, /cxt-bed/);
    for (const pid of [...dockerds, ...containerPids, ...servers.map((s) => s.pid)]) assert.ok(!alive(pid as number), `process ${pid} is gone`);
    assert.ok(!existsSync(bed.dir), `${bed.dir} is removed`);
  });
});
