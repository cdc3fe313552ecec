import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { storeMemberFlags } from '../../lib/store-members';
import { freePort, waitFor } from './util';

export { waitFor };

/**
 * Start and drive a real multi-process store cluster for cross-process tests:
 * each member is `node dist/store/main-entry.js` on free ports with its own temp
 * data dir. Also wraps the real `etcdctl` (v3 API). Reusable by any test that
 * needs a store.
 */

export const STORE_ENTRY = path.resolve(__dirname, '../../store/main-entry.js');
export const ETCDCTL = process.env.ETCDCTL ?? '/usr/bin/etcdctl';

export interface StoreMember {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  proc?: ChildProcess;
  /** stderr+stdout of every incarnation (JSON log lines). */
  output: string[];
  /** Set for members that joined a running cluster: their --initial-cluster, started with state existing. */
  joinCluster?: string;
}

export interface StoreClusterOptions {
  size?: number;
  heartbeatMs?: number;
  electionTimeoutMs?: number;
  /** Extra flags for every member. */
  extraArgs?: string[];
  /** Mutual TLS on the client and peer ports (https:// URLs); etcdctl is given the client pair. */
  tls?: StoreTlsFiles;
}

/** PEM file names: one CA for both sides, a member certificate (server and client auth, IP SAN 127.0.0.1) and a client pair. */
export interface StoreTlsFiles {
  ca: string;
  cert: string;
  key: string;
  clientCert: string;
  clientKey: string;
}

/** A member's TLS flags (client and peer side, both requiring certificates from `t.ca`). */
export function storeTlsFlags(t: { ca: string; cert: string; key: string }): string[] {
  return [
    '--cert-file', t.cert, '--key-file', t.key, '--trusted-ca-file', t.ca, '--client-cert-auth',
    '--peer-cert-file', t.cert, '--peer-key-file', t.key, '--peer-trusted-ca-file', t.ca, '--peer-client-cert-auth',
  ];
}

export interface EtcdctlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function etcdctl(endpoint: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<EtcdctlResult> {
  return new Promise((resolve) => {
    const p = spawn(ETCDCTL, [`--endpoints=${endpoint}`, '--dial-timeout=2s', '--command-timeout=5s', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 15000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    p.stdin.on('error', () => {}); // etcdctl may exit before reading stdin (EPIPE)
    p.stdin.end(opts.input ?? '');
  });
}

export class StoreCluster {
  readonly members: StoreMember[] = [];
  private readonly root: string;

  private constructor(private readonly opts: Required<Omit<StoreClusterOptions, 'tls'>> & { tls?: StoreTlsFiles }) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'coxswain-store-'));
  }

  static async start(options: StoreClusterOptions = {}): Promise<StoreCluster> {
    const c = new StoreCluster({ size: 3, heartbeatMs: 50, electionTimeoutMs: 500, extraArgs: [], ...options });
    for (let i = 1; i <= c.opts.size; i++) {
      c.members.push({
        name: `s${i}`,
        clientPort: await freePort(),
        peerPort: await freePort(),
        dataDir: path.join(c.root, `s${i}`),
        output: [],
      });
    }
    for (const m of c.members) c.spawn(m);
    await c.waitForLeader(20000);
    return c;
  }

  private args(m: StoreMember): string[] {
    // The original members keep their original flags (ids derive from them); a joined member gets
    // the --initial-cluster `member add` printed and state existing.
    const flags = storeMemberFlags(m, this.members.filter((x) => !x.joinCluster), m.dataDir, this.opts.tls ? 'https' : 'http');
    if (m.joinCluster) {
      flags[flags.indexOf('--initial-cluster') + 1] = m.joinCluster;
      flags[flags.indexOf('--initial-cluster-state') + 1] = 'existing';
    }
    return [
      ...flags,
      '--heartbeat-interval', String(this.opts.heartbeatMs),
      '--election-timeout', String(this.opts.electionTimeoutMs),
      ...(this.opts.tls ? storeTlsFlags(this.opts.tls) : []),
      ...this.opts.extraArgs,
    ];
  }

  /** A new member's ports and data dir (not started; see startJoined). */
  async newMember(name: string): Promise<StoreMember> {
    return { name, clientPort: await freePort(), peerPort: await freePort(), dataDir: path.join(this.root, name), output: [] };
  }

  /** The URL scheme of the cluster's ports. */
  get scheme(): 'http' | 'https' {
    return this.opts.tls ? 'https' : 'http';
  }

  /** Start `m` (from newMember) with state existing and `initialCluster`, after it was added to the cluster. */
  startJoined(m: StoreMember, initialCluster: string): void {
    m.joinCluster = initialCluster;
    this.members.push(m);
    this.spawn(m);
  }

  private spawn(m: StoreMember): void {
    const p = spawn(process.execPath, [STORE_ENTRY, ...this.args(m)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    p.stdout!.on('data', (d) => m.output.push(String(d)));
    p.stderr!.on('data', (d) => m.output.push(String(d)));
    m.proc = p;
  }

  /**
   * etcd's join workflow: `etcdctl member add <name> --peer-urls=...` through
   * `via`, then start the new member with the printed ETCD_INITIAL_CLUSTER and
   * state existing. Returns etcdctl's output.
   */
  async addMember(name: string, via: string): Promise<string> {
    const m: StoreMember = { name, clientPort: await freePort(), peerPort: await freePort(), dataDir: path.join(this.root, name), output: [] };
    // The store refuses an add while it could cost the quorum (etcd's strict reconfig check, e.g.
    // right after a leader change); a real joiner retries, and so does this.
    const r = await waitFor('member add', async () => {
      const res = await this.etcdctl(via, ['member', 'add', name, `--peer-urls=${this.scheme}://127.0.0.1:${m.peerPort}`]);
      if (res.code !== 0 && /unhealthy cluster|not enough started members/.test(res.stderr)) return undefined;
      return res;
    }, 20_000, 250);
    if (r.code !== 0) throw new Error(`member add failed: ${r.stderr}`);
    const ic = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(r.stdout)?.[1];
    if (!ic || !/ETCD_INITIAL_CLUSTER_STATE="existing"/.test(r.stdout)) throw new Error(`unexpected member add output: ${r.stdout}`);
    m.joinCluster = ic;
    this.members.push(m);
    this.spawn(m);
    return r.stdout;
  }

  member(name: string): StoreMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  endpoint(name: string): string {
    return `${this.opts.tls ? 'https://' : ''}127.0.0.1:${this.member(name).clientPort}`;
  }

  alive(): StoreMember[] {
    return this.members.filter((m) => m.proc && m.proc.exitCode === null && m.proc.signalCode === null);
  }

  etcdctl(name: string, args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<EtcdctlResult> {
    const t = this.opts.tls;
    return etcdctl(this.endpoint(name), t ? ['--cacert', t.ca, '--cert', t.clientCert, '--key', t.clientKey, ...args] : args, opts);
  }

  /** The member every live member agrees is leader, by `etcdctl endpoint status`. */
  async leader(): Promise<string | undefined> {
    const seen = new Set<string>();
    const ids = new Map<string, string>();
    for (const m of this.alive()) {
      const r = await this.etcdctl(m.name, ['endpoint', 'status', '-w', 'json'], { timeoutMs: 5000 });
      if (r.code !== 0) return undefined;
      const lead = /"leader":(\d+)/.exec(r.stdout)?.[1];
      const self = /"member_id":(\d+)/.exec(r.stdout)?.[1];
      if (!lead || lead === '0' || !self) return undefined;
      seen.add(lead);
      ids.set(self, m.name);
    }
    if (seen.size !== 1) return undefined;
    return ids.get([...seen][0]);
  }

  waitForLeader(timeoutMs = 15000): Promise<string> {
    return waitFor('a leader agreed by all live members', () => this.leader(), timeoutMs, 200);
  }

  /** Kill a member (default SIGKILL) and wait for the process to exit. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const m = this.member(name);
    const p = m.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  }

  /** Start a stopped member again with the same flags and data dir. */
  restart(name: string): void {
    const m = this.member(name);
    if (m.proc && m.proc.exitCode === null && m.proc.signalCode === null) throw new Error(`${name} is still running`);
    this.spawn(m);
  }

  /** SIGTERM everyone, then remove the data dirs (unless COXSWAIN_KEEP_STORE_DATA is set). */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m.name, 'SIGTERM')));
    if (!process.env.COXSWAIN_KEEP_STORE_DATA) fs.rmSync(this.root, { recursive: true, force: true });
  }

  logs(name: string): string {
    return this.member(name).output.join('');
  }
}
