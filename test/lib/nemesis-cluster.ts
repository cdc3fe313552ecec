import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { waitFor } from './store-cluster';
import type { StatusResponse } from '../../bench/lib/etcd-client';

/**
 * A store cluster for fault injection: every replica is its own process in its own network
 * namespace, so a partition is a precise, symmetric packet filter that touches nothing on the
 * host.
 *
 * Topology (all created here, all removed by `stop()` or by the stale sweep of a later run):
 *   host ──veth── [hub ns: bridge] ──veth── [member ns i: eth0 10.231.K.(10+i)]
 * The host end has 10.231.K.1, so the test process (the clients) reaches every member's client
 * port directly; members reach each other through the hub's bridge. A partition is `iptables -A
 * INPUT -s <other member> -j DROP` inside each member's own namespace (clients stay connected,
 * as in Jepsen). Names carry this process's pid and a letter per cluster: `cxn<pid><x>h` (hub),
 * `cxn<pid><x>m<i>` (members), `cxn<pid><x>r` (host end).
 *
 * Flavours: `coxswain` runs `node dist/cli/coxswain.js store ...`; `etcd` runs /usr/bin/etcd with
 * the same etcd flags (the positive control). Needs root (ip netns, iptables).
 */

export type Flavor = 'coxswain' | 'etcd';

export interface NemesisMember {
  name: string;
  index: number;
  ns: string;
  ip: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  logFile: string;
  proc?: ChildProcess;
  paused: boolean;
  /** Member id as decimal text (from Status), once learned. */
  id?: string;
  incarnation: number;
}

export interface NemesisClusterOptions {
  flavor: Flavor;
  size: number;
  heartbeatMs?: number;
  electionTimeoutMs?: number;
  /** Where data dirs and logs go (created; kept if `keep`). */
  dir?: string;
}

const CLIENT_PORT = 23790;
const PEER_PORT = 23800;
const COXSWAIN_CLI = path.resolve(__dirname, '../../cli/coxswain.js');
const ETCD = process.env.ETCD ?? '/usr/bin/etcd';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
const tryRun = (cmd: string, args: string[]): void => {
  try {
    run(cmd, args);
  } catch {
    /* already gone */
  }
};

const alivePid = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Remove namespaces and links left by runs whose process is gone (a crashed test). */
export function sweepStale(): void {
  for (const line of run('ip', ['netns', 'list']).split('\n')) {
    const m = /^(cxn(\d+)[a-z](?:h|m\d+))\b/.exec(line.trim());
    if (!m || alivePid(Number(m[2]))) continue;
    // Replicas orphaned by a killed test still run inside the namespace: end them first.
    let pids: string[] = [];
    try {
      pids = run('ip', ['netns', 'pids', m[1]]).split('\n').filter(Boolean);
    } catch {
      /* namespace already gone */
    }
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* exited */
      }
    }
    tryRun('ip', ['netns', 'del', m[1]]);
  }
  for (const line of run('ip', ['-o', 'link', 'show']).split('\n')) {
    const m = /^\d+: (cxn(\d+)[a-z]r)[@:]/.exec(line.trim());
    if (m && !alivePid(Number(m[2]))) tryRun('ip', ['link', 'del', m[1]]);
  }
}

let maintenanceCtor: grpc.ServiceClientConstructor | undefined;
function maintenance(): grpc.ServiceClientConstructor {
  if (!maintenanceCtor) {
    const dir = path.resolve(__dirname, '../../../store/proto');
    const def = protoLoader.loadSync(path.join(dir, 'etcd.proto'), { keepCase: true, longs: String, bytes: Buffer, defaults: true, oneofs: true, includeDirs: [dir] });
    maintenanceCtor = (grpc.loadPackageDefinition(def).etcdserverpb as grpc.GrpcObject).Maintenance as grpc.ServiceClientConstructor;
  }
  return maintenanceCtor!;
}

/** The Maintenance stub's one method used here. */
type MaintenanceClient = grpc.Client & { Status(req: unknown, opts: grpc.CallOptions, cb: (err: Error | null, r: StatusResponse) => void): void };

let instances = 0;

export class NemesisCluster {
  readonly members: NemesisMember[] = [];
  readonly dir: string;
  private readonly tag = `cxn${process.pid}${String.fromCharCode(97 + (instances++ % 26))}`;
  private readonly subnet: string;
  private readonly statusClients = new Map<string, MaintenanceClient>();
  private partitioned = false;

  private constructor(readonly opts: Required<Omit<NemesisClusterOptions, 'dir'>> & { dir?: string }) {
    this.dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), `coxswain-nemesis-${opts.flavor}-`));
    fs.mkdirSync(this.dir, { recursive: true });
    this.subnet = NemesisCluster.pickSubnet();
  }

  /** A 10.231.K.0/24 no route on the host uses yet. */
  private static pickSubnet(): string {
    const routes = run('ip', ['-4', 'route', 'show', 'table', 'all']);
    for (let tries = 0; tries < 256; tries++) {
      const k = Math.floor(Math.random() * 250) + 1;
      if (!routes.includes(`10.231.${k}.`)) return `10.231.${k}`;
    }
    throw new Error('nemesis: no free 10.231.K.0/24 subnet');
  }

  static async start(options: NemesisClusterOptions): Promise<NemesisCluster> {
    sweepStale();
    const c = new NemesisCluster({ heartbeatMs: 100, electionTimeoutMs: 1000, ...options });
    try {
      c.createNetwork();
      for (const m of c.members) c.spawn(m);
      await c.waitForLeader(30_000);
    } catch (e) {
      await c.stop(true);
      throw e;
    }
    return c;
  }

  private createNetwork(): void {
    const hub = `${this.tag}h`;
    const host = `${this.tag}r`;
    // Namespaces are created before anything else, so a failure part-way is cleaned by stop().
    run('ip', ['netns', 'add', hub]);
    for (let i = 1; i <= this.opts.size; i++) {
      const ns = `${this.tag}m${i}`;
      run('ip', ['netns', 'add', ns]);
      const dataDir = path.join(this.dir, `s${i}`);
      this.members.push({
        name: `s${i}`, index: i, ns, ip: `${this.subnet}.${10 + i}`, clientPort: CLIENT_PORT, peerPort: PEER_PORT,
        dataDir, logFile: path.join(this.dir, `s${i}.log`), paused: false, incarnation: 0,
      });
    }
    run('ip', ['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', hub, 'link', 'set', 'br0', 'up']);
    run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'hostport', 'netns', hub]);
    run('ip', ['-n', hub, 'link', 'set', 'hostport', 'master', 'br0', 'up']);
    run('ip', ['addr', 'add', `${this.subnet}.1/24`, 'dev', host]);
    run('ip', ['link', 'set', host, 'up']);
    for (const m of this.members) {
      run('ip', ['-n', hub, 'link', 'add', `m${m.index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', m.ns]);
      run('ip', ['-n', hub, 'link', 'set', `m${m.index}`, 'master', 'br0', 'up']);
      run('ip', ['-n', m.ns, 'addr', 'add', `${m.ip}/24`, 'dev', 'eth0']);
      run('ip', ['-n', m.ns, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', m.ns, 'link', 'set', 'lo', 'up']);
    }
  }

  private args(m: NemesisMember): string[] {
    const initial = this.members.map((x) => `${x.name}=http://${x.ip}:${x.peerPort}`).join(',');
    const flags = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', `http://${m.ip}:${m.clientPort}`,
      '--advertise-client-urls', `http://${m.ip}:${m.clientPort}`,
      '--listen-peer-urls', `http://${m.ip}:${m.peerPort}`,
      '--initial-advertise-peer-urls', `http://${m.ip}:${m.peerPort}`,
      '--initial-cluster', initial,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `nemesis-${this.tag}`,
      '--heartbeat-interval', String(this.opts.heartbeatMs),
      '--election-timeout', String(this.opts.electionTimeoutMs),
    ];
    return this.opts.flavor === 'etcd' ? [ETCD, ...flags, '--logger=zap', '--log-outputs=stderr'] : [process.execPath, COXSWAIN_CLI, 'store', ...flags];
  }

  private spawn(m: NemesisMember): void {
    m.incarnation++;
    fs.appendFileSync(m.logFile, `\n===== ${new Date().toISOString()} start #${m.incarnation} of ${m.name} =====\n`);
    const fd = fs.openSync(m.logFile, 'a');
    const p = spawn('ip', ['netns', 'exec', m.ns, ...this.args(m)], { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    p.on('error', () => undefined);
    m.proc = p;
    m.paused = false;
  }

  member(name: string): NemesisMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  /** Client endpoints (host:port) of every member. */
  endpoints(): string[] {
    return this.members.map((m) => `${m.ip}:${m.clientPort}`);
  }

  isUp(m: NemesisMember): boolean {
    return !!m.proc && m.proc.exitCode === null && m.proc.signalCode === null;
  }

  log(line: string): void {
    fs.appendFileSync(path.join(this.dir, 'nemesis.log'), `${new Date().toISOString()} ${line}\n`);
  }

  async kill(name: string): Promise<void> {
    const m = this.member(name);
    const p = m.proc;
    if (!p || !this.isUp(m)) return;
    this.log(`kill -9 ${name}`);
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
    m.paused = false;
  }

  restart(name: string): void {
    const m = this.member(name);
    if (this.isUp(m)) throw new Error(`${name} is still running`);
    this.log(`restart ${name}`);
    this.spawn(m);
  }

  pause(name: string): void {
    const m = this.member(name);
    if (!this.isUp(m) || m.paused) return;
    this.log(`SIGSTOP ${name}`);
    m.proc!.kill('SIGSTOP');
    m.paused = true;
  }

  resume(name: string): void {
    const m = this.member(name);
    if (!m.paused) return;
    this.log(`SIGCONT ${name}`);
    if (this.isUp(m)) m.proc!.kill('SIGCONT');
    m.paused = false;
  }

  /** Only members in the same group talk to each other (clients reach everyone). */
  partition(groups: string[][]): void {
    this.log(`partition ${groups.map((g) => g.join(',')).join(' | ')}`);
    const groupOf = new Map<string, number>();
    groups.forEach((g, i) => g.forEach((n) => groupOf.set(n, i)));
    for (const m of this.members) {
      for (const o of this.members) {
        if (o === m || groupOf.get(o.name) === groupOf.get(m.name)) continue;
        run('ip', ['netns', 'exec', m.ns, 'iptables', '-w', '-A', 'INPUT', '-s', o.ip, '-j', 'DROP']);
      }
    }
    this.partitioned = true;
  }

  heal(): void {
    if (!this.partitioned) return;
    this.log('heal');
    for (const m of this.members) run('ip', ['netns', 'exec', m.ns, 'iptables', '-w', '-F', 'INPUT']);
    this.partitioned = false;
  }

  private status(m: NemesisMember, timeoutMs: number): Promise<{ id: string; leader: string }> {
    let c = this.statusClients.get(m.name);
    if (!c) {
      const Ctor = maintenance();
      c = new Ctor(`${m.ip}:${m.clientPort}`, grpc.credentials.createInsecure(), {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 500,
      }) as unknown as MaintenanceClient;
      this.statusClients.set(m.name, c);
    }
    return new Promise((resolve, reject) => {
      c!.Status({}, { deadline: Date.now() + timeoutMs }, (err, r) => {
        if (err) return reject(err);
        m.id = String(r.header.member_id);
        resolve({ id: String(r.header.member_id), leader: String(r.leader) });
      });
    });
  }

  /** The leader every running, unpaused member names (and which is one of them), else undefined. */
  async leader(): Promise<string | undefined> {
    const live = this.members.filter((m) => this.isUp(m) && !m.paused);
    if (live.length === 0) return undefined;
    let answers: { id: string; leader: string }[];
    try {
      answers = await Promise.all(live.map((m) => this.status(m, 1000)));
    } catch {
      return undefined;
    }
    const leaders = new Set(answers.map((a) => a.leader));
    if (leaders.size !== 1) return undefined;
    const lead = [...leaders][0];
    return live.find((m) => m.id === lead)?.name;
  }

  waitForLeader(timeoutMs = 30_000): Promise<string> {
    return waitFor('a leader agreed by all running members', () => this.leader(), timeoutMs, 100);
  }

  /** Stop every process, remove the namespaces; remove the data dir unless `keep`. */
  async stop(keep = false): Promise<void> {
    for (const c of this.statusClients.values()) c.close();
    this.statusClients.clear();
    await Promise.all(this.members.map(async (m) => {
      const p = m.proc;
      if (!p || !this.isUp(m)) return;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGKILL'); // works on stopped processes too
      });
    }));
    for (const m of this.members) tryRun('ip', ['netns', 'del', m.ns]);
    tryRun('ip', ['netns', 'del', `${this.tag}h`]);
    tryRun('ip', ['link', 'del', `${this.tag}r`]);
    if (!keep && !process.env.COXSWAIN_KEEP_NEMESIS_DATA) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
