/**
 * The node's pod network, wired by the kubelet itself (as a CNI bridge plugin
 * does for Kubernetes' kubelet): a Linux bridge holding the podCIDR's gateway,
 * and per sandbox a veth pair whose inner end is the pod's `eth0`.
 *
 * Sandboxes run with Docker's `none` network, so Docker's own networking
 * (libnetwork endpoint, embedded DNS and its iptables rules inside every pod)
 * stays out of the start path: on this machine a sandbox on a user-defined
 * Docker bridge starts in ~255 ms, one on `none` plus this wiring in ~195 ms.
 *
 * Pod IPs come from {@link PodIPAM} and are recorded as a label on the sandbox,
 * so a restarted kubelet rebuilds its allocations from Docker.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { formatIPv4, inCidr, parseCidr, parseIPv4 } from '../lib/ipv4';
import { gatewayOf } from './node-status';

import { runCommand, type CommandRunner } from '../lib/command';

export { runCommand, type CommandRunner };

/**
 * The absolute path of a program on the PATH (as `which`), so that `nsenter`
 * runs that program: a busybox `nsenter` would run its own applet of the name.
 */
export async function whichProgram(name: string, pathVar = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): Promise<string> {
  for (const dir of pathVar.split(':')) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (await fs.access(file, 1 /* X_OK */).then(() => true, () => false)) return file;
  }
  return name;
}

/** Bridge device names start with this; the MASQUERADE rule exempts every such device (pods of other nodes on this host). */
export const BRIDGE_PREFIX = 'cxb';
const VETH_PREFIX = 'cxv';

/** The bridge device of a pod network (`<prefix>-<node>`): Linux caps device names at 15 characters. */
export function bridgeNameFor(network: string): string {
  return BRIDGE_PREFIX + createHash('sha256').update(network).digest('hex').slice(0, 12);
}

/** The host end of a sandbox's veth pair. */
export function vethNameFor(sandboxId: string): string {
  return VETH_PREFIX + sandboxId.slice(0, 12);
}

/** Parses an IPv4 CIDR (network address, prefix, number of addresses); throws naming it when it is not one. */
export function parseCIDR(cidr: string): { network: number; prefix: number; size: number } {
  const c = parseCidr(cidr);
  if (!c) throw new Error(`${JSON.stringify(cidr)} is not an IPv4 CIDR`);
  return { network: c.base, prefix: c.prefix, size: 2 ** (32 - c.prefix) };
}

export class IPAMExhaustedError extends Error {}

interface Hold {
  owner: string;
  sandboxId?: string;
  /** When allocated, and when bound to its sandbox (which then exists in the runtime). */
  at: number;
  boundAt?: number;
}

/**
 * Pod IP allocation in one podCIDR (the network address, the gateway `.1` and
 * the broadcast address excluded). Round-robin, like CNI's host-local plugin,
 * so a freed address is not handed out again at once. Pure: the caller feeds
 * it the sandboxes that exist (`reconcile`).
 */
export class PodIPAM {
  private readonly first: number;
  private readonly last: number;
  private cursor: number;
  private readonly held = new Map<string, Hold>();

  constructor(
    readonly cidr: string,
    private readonly now: () => number = Date.now,
    /** How long an allocation with no sandbox yet is kept without a `bind`. */
    private readonly pendingTtlMs = 120_000,
  ) {
    const { network, size, prefix } = parseCIDR(cidr);
    if (prefix > 30) throw new Error(`podCIDR ${cidr} leaves no room for pods (prefix at most /30)`);
    this.first = network + 2;
    this.last = network + size - 2;
    this.cursor = this.first;
  }

  get inUse(): number {
    return this.held.size;
  }

  /** A free address, held for `owner` until bound to a sandbox or released. */
  allocate(owner: string): string {
    const span = this.last - this.first + 1;
    for (let i = 0; i < span; i++) {
      const n = this.first + ((this.cursor - this.first + i) % span);
      const ip = formatIPv4(n);
      if (this.held.has(ip)) continue;
      this.held.set(ip, { owner, at: this.now() });
      this.cursor = n + 1 > this.last ? this.first : n + 1;
      return ip;
    }
    throw new IPAMExhaustedError(`no free pod IP in ${this.cidr}: all ${span} addresses are held`);
  }

  bind(ip: string, sandboxId: string): void {
    const h = this.held.get(ip);
    const now = this.now();
    if (h) Object.assign(h, { sandboxId, boundAt: now });
    else this.held.set(ip, { owner: sandboxId, sandboxId, at: now, boundAt: now });
  }

  release(ip: string): void {
    this.held.delete(ip);
  }

  /**
   * Makes the held set match the sandboxes that exist, as listed from the
   * runtime starting at `listedAt`: each live one holds its address; an address
   * bound to a sandbox that existed before the listing began and is not in it
   * is freed, as is one allocated long ago and never bound (a sync that died
   * between the two). Sandboxes created while the listing ran keep theirs.
   */
  reconcile(live: ReadonlyArray<{ id: string; ip?: string }>, listedAt = this.now()): void {
    const liveIds = new Set(live.map((s) => s.id));
    const now = this.now();
    for (const [ip, h] of this.held) {
      const gone = h.sandboxId ? (h.boundAt ?? 0) < listedAt && !liveIds.has(h.sandboxId) : now - h.at > this.pendingTtlMs;
      if (gone) this.held.delete(ip);
    }
    for (const s of live) {
      if (!s.ip || !this.contains(s.ip)) continue;
      const h = this.held.get(s.ip);
      // Adopted (a restarted kubelet): the sandbox existed when this listing began.
      if (!h || h.sandboxId !== s.id) this.held.set(s.ip, { owner: s.id, sandboxId: s.id, at: now, boundAt: listedAt });
    }
  }

  contains(ip: string): boolean {
    const n = parseIPv4(ip);
    return n !== undefined && n >= this.first && n <= this.last;
  }
}

/** What the pod manager needs from the pod network. */
export interface PodNetwork {
  readonly name: string;
  /** The node's podCIDR, once `ensure` has set the bridge up for it. */
  readonly subnet?: string;
  allocate(owner: string): string;
  bind(ip: string, sandboxId: string): void;
  release(ip: string): void;
  reconcile(live: ReadonlyArray<{ id: string; ip?: string }>, listedAt?: number): void;
  /** Wires a running sandbox (its init process `pid`) to the bridge with `ip`; idempotent. */
  attach(sandboxId: string, pid: number, ip: string): Promise<void>;
  /** Whether a running sandbox's namespace has its pod interface and default route, and its host end is on the bridge. */
  isAttached(sandboxId: string, pid: number): Promise<boolean>;
}

interface IpAddrInfo {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** The kubelet's bridge pod network for one node (see the file comment). */
export class BridgePodNetwork implements PodNetwork {
  readonly bridge: string;
  subnet?: string;
  private gateway = '';
  private prefix = 0;
  private ipam?: PodIPAM;
  private iptables?: string;
  private ipPath?: string;

  private readonly run: CommandRunner;
  private readonly proc: string;
  private readonly sys: string;
  /** The cluster CIDR (normalized): forwarded freely, never masqueraded to. */
  readonly clusterCIDR?: string;

  constructor(
    readonly name: string,
    private readonly log: Logger,
    /**
     * Commands, the roots of /proc and /sys (unit tests point them elsewhere), and
     * the cluster CIDR (`--cluster-cidr`): traffic within it is forwarded and not
     * masqueraded, so a pod on another host sees the sender's own IP.
     */
    opts: { run?: CommandRunner; procRoot?: string; sysRoot?: string; clusterCIDR?: string } = {},
  ) {
    this.bridge = bridgeNameFor(name);
    this.run = opts.run ?? runCommand;
    this.proc = opts.procRoot ?? '/proc';
    this.sys = opts.sysRoot ?? '/sys';
    if (opts.clusterCIDR) {
      const c = parseCIDR(opts.clusterCIDR);
      this.clusterCIDR = `${formatIPv4(c.network)}/${c.prefix}`;
    }
  }

  /**
   * Makes the bridge hold `subnet`'s gateway, up, with forwarding and NAT for
   * the pods' traffic leaving the host. Idempotent. A bridge of another
   * Coxswain network holding the same subnet with no pod attached (a node
   * renamed, a test's leftover) is removed first; one with pods is an error.
   */
  async ensure(subnet: string): Promise<void> {
    const { network, prefix } = parseCIDR(subnet);
    const cidr = `${formatIPv4(network)}/${prefix}`;
    const gateway = gatewayOf(cidr);
    const bridges = JSON.parse(await this.run('ip', ['-j', '-4', 'addr', 'show', 'type', 'bridge'])) as IpAddrInfo[];
    for (const b of bridges) {
      const holds = (b.addr_info ?? []).some((a) => a.family === 'inet' && a.prefixlen === prefix && inCidr(a.local, { base: network, prefix }));
      if (!holds || b.ifname === this.bridge) continue;
      if (!b.ifname.startsWith(BRIDGE_PREFIX)) throw new Error(`podCIDR ${cidr} is already on interface ${b.ifname}; give this node another podCIDR or remove that interface`);
      const ports = await this.ports(b.ifname);
      if (ports.length > 0) throw new Error(`podCIDR ${cidr} is already on bridge ${b.ifname} of another Coxswain pod network, with ${ports.length} pods attached`);
      this.log.warn({ bridge: b.ifname, subnet: cidr }, 'removing a stale Coxswain pod bridge that holds this node\'s podCIDR');
      await removeBridge(b.ifname, this.run);
    }
    const mine = bridges.find((b) => b.ifname === this.bridge);
    // `ip -4` leaves out a bridge with no IPv4 address: the device may exist all the same.
    if (!mine && !(await fs.access(`${this.sys}/class/net/${this.bridge}`).then(() => true, () => false))) {
      this.log.info({ network: this.name, bridge: this.bridge, subnet: cidr }, 'creating pod bridge');
      await this.run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
      await this.run('ip', ['link', 'set', this.bridge, 'alias', this.name]);
    }
    await this.pinBridgeAddress();
    const addrs = (mine?.addr_info ?? []).filter((a) => a.family === 'inet');
    const want = addrs.some((a) => a.local === gateway && a.prefixlen === prefix);
    if (!want) {
      if (addrs.length > 0) {
        const ports = await this.ports(this.bridge);
        if (ports.length > 0) throw new Error(`pod bridge ${this.bridge} has ${addrs.map((a) => `${a.local}/${a.prefixlen}`).join(',')}, not ${cidr}, and ${ports.length} pods attached`);
        this.log.warn({ bridge: this.bridge, had: addrs.map((a) => `${a.local}/${a.prefixlen}`), want: cidr }, 'readdressing pod bridge for the node podCIDR');
        await this.run('ip', ['addr', 'flush', 'dev', this.bridge]);
      }
      await this.run('ip', ['addr', 'add', `${gateway}/${prefix}`, 'dev', this.bridge]);
    }
    await this.run('ip', ['link', 'set', this.bridge, 'up']);
    await fs.writeFile('/proc/sys/net/ipv4/ip_forward', '1').catch(() => undefined);
    try {
      await this.ensureRules(cidr);
    } catch (err) {
      // Pods still reach each other and this host; only traffic leaving the host needs these.
      this.log.warn({ bridge: this.bridge, err: (err as Error).message }, 'cannot install forwarding/NAT rules for the pod network; pods cannot reach other hosts');
    }
    if (this.ipam?.cidr !== cidr) this.ipam = new PodIPAM(cidr);
    this.subnet = cidr;
    this.gateway = gateway;
    this.prefix = prefix;
  }

  /**
   * Fixes the bridge's MAC address at the one it has now. A Linux bridge whose address was
   * never set takes the lowest MAC of its ports, so it changes whenever a pod's veth with a
   * lower MAC comes or goes; the pods' ARP entries for their gateway then point at a MAC nobody
   * answers, and their traffic to this host and to Services vanishes for up to a minute, until
   * they resolve the gateway again. Setting the address (even to the same value) stops the
   * kernel from changing it, as Docker does for its bridges.
   */
  private async pinBridgeAddress(): Promise<void> {
    const links = JSON.parse(await this.run('ip', ['-j', 'link', 'show', 'dev', this.bridge])) as { ifname?: string; address?: string }[];
    const mac = links.find((l) => l.ifname === this.bridge)?.address;
    if (!mac) throw new Error(`cannot read the MAC address of pod bridge ${this.bridge}`);
    await this.run('ip', ['link', 'set', 'dev', this.bridge, 'address', mac]);
  }

  private async ports(bridge: string): Promise<string[]> {
    return fs.readdir(`${this.sys}/class/net/${bridge}/brif`).catch(() => []);
  }

  /**
   * The iptables that Docker's rules are in: Debian's `iptables` is the nft
   * backend, and a Docker engine on the legacy backend would keep dropping
   * what the kubelet accepts in the other one (as Kubernetes' iptables-wrapper, the
   * backend already holding the rules wins).
   */
  private async iptablesCommand(): Promise<string> {
    if (this.iptables) return this.iptables;
    const has = async (cmd: string) => /DOCKER/.test(await this.run(cmd, ['-w', '-S', 'FORWARD']).catch(() => ''));
    this.iptables = (await has('iptables')) ? 'iptables' : (await has('iptables-legacy')) ? 'iptables-legacy' : 'iptables';
    return this.iptables;
  }

  /**
   * FORWARD accepts for the bridge and within the cluster CIDR (pods of other
   * hosts, host-gw), ahead of Docker's DROP policy; MASQUERADE for traffic from
   * the pods leaving through a non-pod interface to outside the cluster CIDR.
   * Every rule carries the bridge's tag; a tagged rule not in this set (an
   * earlier version's, another podCIDR or cluster CIDR) is deleted, so it can
   * never match first.
   */
  private async ensureRules(cidr: string): Promise<void> {
    const iptables = await this.iptablesCommand();
    const tag = ['-m', 'comment', '--comment', `coxswain:${this.bridge}`];
    const cluster = this.clusterCIDR;
    const rules: [string, string, string[]][] = [
      ['filter', 'FORWARD', ['-i', this.bridge, ...tag, '-j', 'ACCEPT']],
      ['filter', 'FORWARD', ['-o', this.bridge, ...tag, '-j', 'ACCEPT']],
      ...(cluster
        ? ([
            ['filter', 'FORWARD', ['-s', cluster, ...tag, '-j', 'ACCEPT']],
            ['filter', 'FORWARD', ['-d', cluster, ...tag, '-j', 'ACCEPT']],
          ] as [string, string, string[]][])
        : []),
      ['nat', 'POSTROUTING', ['-s', cidr, ...(cluster ? ['!', '-d', cluster] : []), '!', '-o', `${BRIDGE_PREFIX}+`, ...tag, '-j', 'MASQUERADE']],
    ];
    for (const [table, chain, spec] of rules) {
      const present = await this.run(iptables, ['-w', '-t', table, '-C', chain, ...spec]).then(() => true, () => false);
      if (!present) await this.run(iptables, ['-w', '-t', table, '-I', chain, '1', ...spec]);
    }
    const same = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');
    for (const [table, chain] of [['filter', 'FORWARD'], ['nat', 'POSTROUTING']]) {
      const listing = await this.run(iptables, ['-w', '-t', table, '-S', chain]).catch(() => '');
      for (const line of listing.split('\n')) {
        if (!line.includes(`coxswain:${this.bridge}`)) continue;
        const spec = ruleSpec(line);
        if (rules.some(([t, c, want]) => t === table && c === chain && same(spec.slice(1), want))) continue;
        this.log.info({ table, rule: spec.slice(1).join(' ') }, 'removing a stale pod network rule');
        await this.run(iptables, ['-w', '-t', table, '-D', ...spec]).catch(() => undefined);
      }
    }
  }

  private ipamOrThrow(): PodIPAM {
    if (!this.ipam) throw new Error(`pod network ${this.name} is not set up yet`);
    return this.ipam;
  }

  allocate(owner: string): string {
    return this.ipamOrThrow().allocate(owner);
  }

  bind(ip: string, sandboxId: string): void {
    this.ipamOrThrow().bind(ip, sandboxId);
  }

  release(ip: string): void {
    this.ipam?.release(ip);
  }

  reconcile(live: ReadonlyArray<{ id: string; ip?: string }>, listedAt?: number): void {
    this.ipam?.reconcile(live, listedAt);
  }

  async attach(sandboxId: string, pid: number, ip: string): Promise<void> {
    if (!this.subnet) throw new Error(`pod network ${this.name} is not set up yet`);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`sandbox ${sandboxId.slice(0, 12)} has no running process to wire`);
    if (!this.ipam?.contains(ip)) throw new Error(`pod IP ${JSON.stringify(ip)} of sandbox ${sandboxId.slice(0, 12)} is not an address of ${this.subnet}`);
    // The PID is the runtime's (host) view: wiring another process's namespace would be wrong and silent.
    const cgroup = await fs.readFile(`${this.proc}/${pid}/cgroup`, 'utf8').catch(() => '');
    if (!cgroup.includes(sandboxId)) throw new Error(`process ${pid} is not sandbox ${sandboxId.slice(0, 12)}'s (does the kubelet share the host's PID namespace?)`);
    // The bridge removed behind the kubelet's back (another kubelet's cleanup, an admin): set it up again.
    if (!(await fs.access(`${this.sys}/class/net/${this.bridge}`).then(() => true, () => false))) await this.ensure(this.subnet);
    this.ipPath ??= await whichProgram('ip');
    const veth = vethNameFor(sandboxId);
    // A half-wired sandbox (kubelet killed mid-way): deleting the host end removes the pod end too.
    if (await fs.access(`${this.sys}/class/net/${veth}`).then(() => true, () => false)) await this.run('ip', ['link', 'del', veth]);
    await this.run('ip', ['-batch', '-'], `link add ${veth} type veth peer name eth0 netns ${pid}\nlink set ${veth} master ${this.bridge} up\n`);
    await this.run('nsenter', [`--net=/proc/${pid}/ns/net`, this.ipPath, '-batch', '-'], `addr add ${ip}/${this.prefix} dev eth0\nlink set eth0 up\nroute add default via ${this.gateway}\n`);
  }

  async isAttached(sandboxId: string, pid: number): Promise<boolean> {
    // The host end still on this bridge (a bridge recreated meanwhile has lost its ports).
    const master = await fs.realpath(`${this.sys}/class/net/${vethNameFor(sandboxId)}/master`).catch(() => '');
    if (path.basename(master) !== this.bridge) return false;
    // The namespace's routing table, readable from here: a default route on eth0 is the last step of `attach`.
    const table = await fs.readFile(`${this.proc}/${pid}/net/route`, 'utf8').catch(() => '');
    return table.split('\n').some((l) => {
      const f = l.trim().split(/\s+/);
      return f[0] === 'eth0' && f[1] === '00000000';
    });
  }

  /** Removes the bridge and its rules (pods attached lose their network). For tests and uninstalling. */
  async remove(): Promise<void> {
    await removeBridge(this.bridge, this.run);
  }
}

/** Deletes a pod bridge and the iptables rules tagged with its name; what is already gone is fine. */
export async function removeBridge(bridge: string, run: CommandRunner = runCommand): Promise<void> {
  await run('ip', ['link', 'del', bridge]).catch(() => undefined);
  for (const iptables of ['iptables', 'iptables-legacy']) {
    for (const [table, chain] of [['filter', 'FORWARD'], ['nat', 'POSTROUTING']] as const) {
      const listing = await run(iptables, ['-w', '-t', table, '-S', chain]).catch(() => '');
      for (const line of listing.split('\n')) {
        if (!line.includes(`coxswain:${bridge}`)) continue;
        await run(iptables, ['-w', '-t', table, '-D', ...ruleSpec(line)]).catch(() => undefined);
      }
    }
  }
}

/** A line of `iptables -S` (`-A CHAIN ...`) as the arguments of `-D`: the chain, then the rule's tokens unquoted. */
function ruleSpec(line: string): string[] {
  return line.trim().replace(/^-A /, '').match(/"[^"]*"|\S+/g)?.map((t) => t.replace(/^"|"$/g, '')) ?? [];
}
