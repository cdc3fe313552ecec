/**
 * An OpenSSH server inside one bed host (for the SSH installer test), and the client side that
 * logs in to it as root from the root namespace: a key pair, a known_hosts file with the host's
 * own key, and the ssh options or config that use them.
 *
 * The server has its own configuration, host key, authorized_keys and pid file in
 * `<host dir>/sshd`, listens on port 22 of the host's address only, accepts public keys only
 * (PermitRootLogin prohibit-password), and sets DOCKER_HOST in every session to the host's
 * dockerd, so a command run over SSH sees that host's network and Docker engine.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { alive, endProcesses, must, startInNamespace } from './bed-run';
import type { BedHost } from './bed-host';

export interface SshKeyPair {
  /** The private key file (pass it to ssh -i). */
  privateKeyFile: string;
  /** The public key line, for authorized_keys. */
  publicKey: string;
}

/** Creates an ed25519 key pair without a passphrase at `file` and `file.pub`. */
export async function createSshKeyPair(file: string): Promise<SshKeyPair> {
  mkdirSync(path.dirname(file), { recursive: true });
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'coxswain-bed', '-f', file]);
  return { privateKeyFile: file, publicKey: readFileSync(`${file}.pub`, 'utf8').trim() };
}

export interface Sshd {
  host: BedHost;
  pid: number;
  /** The server's public host key line (`ssh-ed25519 AAAA...`). */
  hostPublicKey: string;
  logFile: string;
  stop(): Promise<void>;
}

/** Resolves true when something on ip:port sends an SSH banner. */
function sshBanner(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: ip, port, timeout: 2_000 });
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('SSH-'));
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * Starts `/usr/sbin/sshd -D` inside the host's network namespace on port 22 of its address and
 * resolves once it sends its banner. `authorizedKeys` are public key lines allowed to log in as
 * root. It is stopped by `stop()` or by the bed's destroy (which ends every process in the
 * namespace).
 */
export async function startSshd(host: BedHost, opts: { authorizedKeys: string[] }): Promise<Sshd> {
  const dir = path.join(host.dir, 'sshd');
  mkdirSync(dir, { recursive: true });
  // The privilege separation directory sshd insists on (Debian creates it only from its service).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  // A key kept from an earlier start of this host's sshd is reused.
  if (!existsSync(hostKey)) await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${host.name}-host`, '-f', hostKey]);
  writeFileSync(path.join(dir, 'authorized_keys'), opts.authorizedKeys.map((k) => `${k.trim()}\n`).join(''), { mode: 0o600 });
  const config = path.join(dir, 'sshd_config');
  writeFileSync(config, [
    'Port 22',
    `ListenAddress ${host.ip}`,
    `HostKey ${hostKey}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The host folder lives under /tmp, which is world-writable: strict modes would refuse the keys.
    'StrictModes no',
    'PrintMotd no',
    `SetEnv DOCKER_HOST=${host.dockerHost}`,
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n'));
  const logFile = path.join(dir, 'sshd.log');
  const pid = await startInNamespace(host.netns, '/usr/sbin/sshd', ['-D', '-e', '-f', config], {
    what: `sshd to answer on ${host.ip}:22`, logFile, ready: () => sshBanner(host.ip, 22), timeoutMs: 20_000,
  });
  return {
    host,
    pid,
    hostPublicKey: readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' '),
    logFile,
    stop: async () => {
      if (alive(pid)) await endProcesses([pid], 5_000);
    },
  };
}

export interface SshClient {
  /** A known_hosts file naming every server's address and host key. */
  knownHostsFile: string;
  /** An ssh config file: `Host h1` (HostName its address) and defaults for every server (root, the key, strict host keys, batch mode). */
  configFile: string;
  /** Options for `ssh` (or scp) without a config file: `ssh ...options root@<ip> cmd`. */
  options: string[];
}

/**
 * Writes the client side for logging in to `servers` with `key`, into `dir`:
 * `ssh -F <configFile> h1 true`, or `ssh ...options root@<ip> true`.
 */
export function sshClient(dir: string, key: SshKeyPair, servers: Sshd[]): SshClient {
  mkdirSync(dir, { recursive: true });
  const knownHostsFile = path.join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, servers.map((s) => `${s.host.ip} ${s.hostPublicKey}\n`).join(''));
  const common = {
    User: 'root',
    IdentityFile: key.privateKeyFile,
    IdentitiesOnly: 'yes',
    UserKnownHostsFile: knownHostsFile,
    GlobalKnownHostsFile: '/dev/null',
    StrictHostKeyChecking: 'yes',
    BatchMode: 'yes',
    ConnectTimeout: '5',
    LogLevel: 'ERROR',
  };
  const configFile = path.join(dir, 'ssh_config');
  writeFileSync(configFile, [
    ...servers.map((s) => `Host ${s.host.name}\n  HostName ${s.host.ip}\n`),
    'Host *',
    ...Object.entries(common).map(([k, v]) => `  ${k} ${v}`),
    '',
  ].join('\n'));
  const options = ['-F', '/dev/null', '-i', key.privateKeyFile, ...Object.entries(common).filter(([k]) => k !== 'IdentityFile' && k !== 'User').flatMap(([k, v]) => ['-o', `${k}=${v}`])];
  return { knownHostsFile, configFile, options };
}
