import { promises as fs } from 'node:fs';
import { runCommand, type CommandRunner } from '../../lib/command';
import { restoreInput, type NodeRuleset } from './rules';

export { runCommand, type CommandRunner };

/** The comment on the FORWARD jump into a node's top chain. */
const jumpComment = (top: string) => `coxswain-netpol:${top}`;

/**
 * The node's NetworkPolicy chains in the host's filter table, written whole
 * with one `iptables-restore --noflush` per change. Touches only the chains
 * named with its prefix and its one jump from FORWARD, which it keeps first
 * (the kubelet inserts its accepts at the top too; `apply` moves the jump back
 * ahead of them). Uses the iptables flavour that holds Docker's chains, as the
 * kubelet does, so both write the same table.
 */
export class IptablesNetpol {
  private cmd?: string;

  constructor(
    private readonly prefix: string,
    private readonly run: CommandRunner = runCommand,
  ) {}

  private async iptables(): Promise<string> {
    if (this.cmd) return this.cmd;
    const has = async (cmd: string) => /DOCKER/.test(await this.run(cmd, ['-w', '-S', 'FORWARD']).catch(() => ''));
    this.cmd = (await has('iptables')) ? 'iptables' : (await has('iptables-legacy')) ? 'iptables-legacy' : 'iptables';
    return this.cmd;
  }

  /** Chains of the filter table this node owns. */
  async ownedChains(): Promise<string[]> {
    const out = await this.run(await this.iptables(), ['-w', '-S']);
    return out
      .split('\n')
      .map((l) => /^-N (\S+)/.exec(l)?.[1])
      .filter((c): c is string => !!c && (c === this.prefix || c.startsWith(`${this.prefix}-`)));
  }

  /** Makes the table hold exactly `desired` (nothing at all when undefined). */
  async apply(desired: NodeRuleset | undefined): Promise<void> {
    const ipt = await this.iptables();
    const existing = await this.ownedChains();
    if (!desired) {
      await this.removeJumps(ipt);
      if (existing.length > 0) await this.run(`${ipt}-restore`, ['-w', '--noflush'], restoreInput(undefined, existing));
      return;
    }
    await this.run(`${ipt}-restore`, ['-w', '--noflush'], restoreInput(desired, existing));
    await this.ensureJumpFirst(ipt, desired.top);
  }

  /** Whether the jump is FORWARD's first rule (cheap: one listing), for the periodic check. */
  async jumpIsFirst(): Promise<boolean> {
    const lines = (await this.run(await this.iptables(), ['-w', '-S', 'FORWARD'])).split('\n').filter((l) => l.startsWith('-A '));
    return !!lines[0]?.includes(jumpComment(this.prefix));
  }

  private async ensureJumpFirst(ipt: string, top: string): Promise<void> {
    const lines = (await this.run(ipt, ['-w', '-S', 'FORWARD'])).split('\n').filter((l) => l.startsWith('-A '));
    const ours = lines.filter((l) => l.includes(jumpComment(this.prefix)));
    if (ours.length === 1 && lines[0] === ours[0] && lines[0].endsWith(`-j ${top}`)) return;
    await this.removeJumps(ipt);
    await this.run(ipt, ['-w', '-I', 'FORWARD', '1', '-m', 'comment', '--comment', jumpComment(top), '-j', top]);
  }

  private async removeJumps(ipt: string): Promise<void> {
    const lines = (await this.run(ipt, ['-w', '-S', 'FORWARD'])).split('\n');
    for (const l of lines) {
      if (!l.startsWith('-A FORWARD') || !l.includes(jumpComment(this.prefix))) continue;
      const spec = l.replace(/^-A /, '').match(/"[^"]*"|\S+/g)?.map((t) => t.replace(/^"|"$/g, '')) ?? [];
      await this.run(ipt, ['-w', '-D', ...spec]).catch(() => undefined);
    }
  }
}

/**
 * Same-node pod traffic crosses the pod bridge without being routed: FORWARD
 * sees it only when bridged IPv4 goes through iptables. Turns that on
 * (loading br_netfilter if the sysctl is missing); resolves with what went
 * wrong, if anything, for the caller to log.
 */
export async function enableBridgeNetfilter(run: CommandRunner = runCommand, sysctl = '/proc/sys/net/bridge/bridge-nf-call-iptables'): Promise<string | undefined> {
  const present = await fs.access(sysctl).then(() => true, () => false);
  if (!present) await run('modprobe', ['br_netfilter']).catch(() => undefined);
  try {
    if ((await fs.readFile(sysctl, 'utf8')).trim() !== '1') await fs.writeFile(sysctl, '1');
    return undefined;
  } catch (err) {
    return `cannot turn on ${sysctl} (same-node pod traffic is not filtered): ${(err as Error).message}`;
  }
}
