/**
 * The bed's network: one Linux bridge in the root namespace, and per host a network namespace
 * joined to it by a veth pair.
 *
 *   root ns: bridge <prefix>br0 (gateway .1/24) ── veth <prefix>-hN ══ eth0 (.10+N/24) in netns <prefix>-hN
 *
 * The root namespace bridges the hosts to each other and to itself, and nothing else: three
 * iptables FORWARD rules (tagged with the comment `<prefix>-bed`) accept bridge-to-bridge
 * traffic (br_netfilter sends bridged frames through FORWARD, whose policy Docker sets to DROP)
 * and drop anything between the bridge and another interface. No NAT is added.
 * A host is cut by setting its root-side veth down: no frame passes in either direction.
 */
import { parseCidr, formatIPv4, type Cidr } from '../../lib/ipv4';
import { must, run } from './bed-run';
import { waitFor } from './util';

/** Names of the links and namespaces of one bed, all derived from its prefix. */
export const bedNames = {
  bridge: (prefix: string) => `${prefix}br0`,
  /** The namespace and its root-side veth share this name. */
  host: (prefix: string, index: number) => `${prefix}-h${index}`,
  comment: (prefix: string) => `${prefix}-bed`,
};

/** Prefixes short enough for Linux interface names (15 characters) and safe in every name. */
export function checkPrefix(prefix: string): void {
  if (!/^[a-z][a-z0-9]{1,7}$/.test(prefix)) throw new Error(`bed prefix ${JSON.stringify(prefix)}: must be 2-8 lower-case letters or digits, starting with a letter`);
}

/** The /24 of a bed: its gateway (.1) and the address of host N (.10+N). */
export interface BedSubnet { cidr: string; gateway: string; hostIp(index: number): string }

export function bedSubnet(cidr: string): BedSubnet {
  const c = parseCidr(cidr);
  if (!c || c.prefix !== 24) throw new Error(`bed subnet ${JSON.stringify(cidr)}: must be an IPv4 /24 such as 10.99.0.0/24`);
  return { cidr: `${formatIPv4(c.base)}/24`, gateway: formatIPv4(c.base + 1), hostIp: (i) => formatIPv4(c.base + 10 + i) };
}

function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  return ((a.base & mask) >>> 0) === ((b.base & mask) >>> 0);
}

/** The root namespace's routes (their destinations) that overlap `cidr`, as `dst dev X` lines. */
async function conflictingRoutes(cidr: string): Promise<string[]> {
  const want = parseCidr(cidr);
  if (!want) return [];
  const out: string[] = [];
  for (const line of (await must('ip', ['-4', 'route', 'show', 'table', 'all'])).split('\n')) {
    const dst = line.trim().split(' ')[0];
    if (!dst || dst === 'default' || /^(local|broadcast|unreachable|blackhole|prohibit)$/.test(dst)) continue;
    const c = parseCidr(dst.includes('/') ? dst : `${dst}/32`);
    if (c && overlaps(c, want)) out.push(line.trim());
  }
  return out;
}

/**
 * The bed's subnet: `wanted` when given (an error when a root-namespace route already covers
 * it), else the first of 10.99.0.0/24, 10.99.1.0/24, ... that no route covers, so two beds with
 * different prefixes can run side by side.
 */
export async function chooseSubnet(wanted: string | undefined): Promise<BedSubnet> {
  if (wanted !== undefined) {
    const s = bedSubnet(wanted);
    const clash = await conflictingRoutes(s.cidr);
    if (clash.length) throw new Error(`bed subnet ${s.cidr} is already routed in the root namespace: ${clash.join('; ')}`);
    return s;
  }
  for (let third = 0; third < 256; third++) {
    const s = bedSubnet(`10.99.${third}.0/24`);
    if ((await conflictingRoutes(s.cidr)).length === 0) return s;
  }
  throw new Error('no free 10.99.x.0/24 subnet for the bed');
}

const FORWARD_RULES = (bridge: string, comment: string): string[][] => [
  ['-i', bridge, '-o', bridge, '-j', 'ACCEPT'],
  ['-i', bridge, '!', '-o', bridge, '-j', 'DROP'],
  ['!', '-i', bridge, '-o', bridge, '-j', 'DROP'],
].map((r) => [...r.slice(0, -2), '-m', 'comment', '--comment', comment, ...r.slice(-2)]);

/** Creates the bridge with the gateway address and the FORWARD rules that keep the bed private. */
export async function createBridge(prefix: string, subnet: BedSubnet): Promise<void> {
  const br = bedNames.bridge(prefix);
  await must('ip', ['link', 'add', br, 'type', 'bridge']);
  await must('ip', ['addr', 'add', `${subnet.gateway}/24`, 'dev', br]);
  await must('ip', ['link', 'set', br, 'up']);
  for (const rule of FORWARD_RULES(br, bedNames.comment(prefix))) await must('iptables', ['-w', '-I', 'FORWARD', '1', ...rule]);
}

/** Creates host N's namespace and veth pair: lo up, eth0 with its address, default route via the gateway, IP forwarding on. */
export async function createHostLink(prefix: string, index: number, subnet: BedSubnet): Promise<void> {
  const name = bedNames.host(prefix, index);
  const ip = subnet.hostIp(index);
  await must('ip', ['netns', 'add', name]);
  await must('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
  await must('ip', ['link', 'set', name, 'master', bedNames.bridge(prefix)]);
  await must('ip', ['link', 'set', name, 'up']);
  await must('ip', ['-n', name, '-batch', '-'], {
    input: ['link set lo up', `addr add ${ip}/24 dev eth0`, 'link set eth0 up', `route add default via ${subnet.gateway}`].join('\n') + '\n',
  });
  await must('nsenter', [`--net=/run/netns/${name}`, '--', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
}

/** Sets host N's root-side veth down: nothing reaches it and nothing leaves it. */
export async function cutHost(prefix: string, index: number): Promise<void> {
  await must('ip', ['link', 'set', bedNames.host(prefix, index), 'down']);
}

/** Sets host N's root-side veth up again and waits until both ends report the link up. */
export async function restoreHost(prefix: string, index: number): Promise<void> {
  const name = bedNames.host(prefix, index);
  await must('ip', ['link', 'set', name, 'up']);
  await waitFor(`the link of ${name} to come up`, async () => {
    const outside = await run('ip', ['-o', 'link', 'show', name]);
    const inside = await run('ip', ['-n', name, '-o', 'link', 'show', 'eth0']);
    return /state UP/.test(outside.stdout) && /state UP/.test(inside.stdout);
  }, 10_000, 20);
}

/** Namespaces of a bed that exist now (including ones of a crashed run). */
export async function bedNamespaces(prefix: string): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  const re = new RegExp(`^${prefix}-h\\d+$`);
  return out.stdout.split('\n').map((l) => l.trim().split(' ')[0]).filter((n) => re.test(n));
}

/** Pids of the processes whose network namespace is `netns`. */
export async function pidsInNamespace(netns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', netns]);
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean).map(Number) : [];
}

/**
 * Removes the bed's namespaces, veths, bridge and FORWARD rules; each step ignores what is
 * already gone. End the processes inside the namespaces first (see bed.ts).
 */
export async function removeBedNetwork(prefix: string): Promise<void> {
  for (const ns of await bedNamespaces(prefix)) await run('ip', ['netns', 'del', ns]);
  const links = await run('ip', ['-o', 'link', 'show']);
  const re = new RegExp(`^\\d+: (${prefix}-h\\d+)@`);
  for (const line of links.stdout.split('\n')) {
    const m = re.exec(line);
    if (m) await run('ip', ['link', 'del', m[1]]);
  }
  await run('ip', ['link', 'del', bedNames.bridge(prefix)]);
  const rules = await run('iptables', ['-w', '-S', 'FORWARD']);
  const tag = `--comment ${bedNames.comment(prefix)} `;
  for (const line of rules.stdout.split('\n')) {
    if (!line.startsWith('-A FORWARD ') || !line.includes(tag)) continue;
    await run('iptables', ['-w', '-D', ...line.slice(3).split(' ')]);
  }
}
