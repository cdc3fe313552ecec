import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { inCidr, type Cidr } from '../lib/ipv4';

const run = promisify(execFile);

/**
 * Where ClusterIPs live on this node. `ensure` and `remove` are idempotent:
 * adding an address that is there, or removing one that is not, succeeds.
 * `ensure` resolves to true when it added the address, false when it was
 * already there (someone else's: the proxy then leaves it in place on release).
 */
export interface AddressManager {
  ensure(ip: string): Promise<boolean>;
  remove(ip: string): Promise<void>;
  /**
   * Addresses a proxy on this node added earlier, in this process or a
   * previous one (killed before it could clean up): the proxy adopts them at
   * start and removes those no Service wants any more.
   */
  owned(): Promise<string[]>;
}

/** The `ip addr` label on ClusterIPs the proxy adds (a label must start with the device name; at most 15 characters). */
export const ADDRESS_LABEL_SUFFIX = ':coxswain';

/**
 * Binds ClusterIPs as /32 (or /128) on a device with iproute2, default `lo`.
 * IPv4 addresses it adds carry the label `<device>:coxswain`, which is how a
 * restarted proxy recognises them as its own; `owned()` lists the labelled
 * ones inside `serviceCidr` only (without one, none: several clusters may
 * share a host, each with its own range).
 */
export class IpAddressManager implements AddressManager {
  private readonly label: string;
  constructor(
    private readonly device = 'lo',
    private readonly serviceCidr?: Cidr,
  ) {
    this.label = `${device}${ADDRESS_LABEL_SUFFIX}`;
  }

  private prefix(ip: string): string {
    return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
  }

  async ensure(ip: string): Promise<boolean> {
    try {
      await run('ip', ['addr', 'add', this.prefix(ip), 'dev', this.device, ...(ip.includes(':') ? [] : ['label', this.label])]);
      return true;
    } catch (err) {
      if (/File exists|already assigned/i.test(String((err as { stderr?: string }).stderr ?? ''))) return false;
      throw new Error(`ip addr add ${this.prefix(ip)} dev ${this.device}: ${String((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`);
    }
  }

  async remove(ip: string): Promise<void> {
    try {
      await run('ip', ['addr', 'del', this.prefix(ip), 'dev', this.device]);
    } catch (err) {
      if (/Cannot assign requested address|not found/i.test(String((err as { stderr?: string }).stderr ?? ''))) return;
      throw new Error(`ip addr del ${this.prefix(ip)} dev ${this.device}: ${String((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`);
    }
  }

  async owned(): Promise<string[]> {
    const cidr = this.serviceCidr;
    if (!cidr) return [];
    const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', this.device, 'label', this.label]);
    return ownedAddresses(stdout, this.label, cidr);
  }
}

/** The /32s carrying `label` inside `cidr`, from `ip -o -4 addr show` output. */
export function ownedAddresses(ipOutput: string, label: string, cidr: Cidr): string[] {
  const out: string[] = [];
  for (const line of ipOutput.split('\n')) {
    const m = /\binet (\d+\.\d+\.\d+\.\d+)\/32 (.*)$/.exec(line);
    if (!m || !inCidr(m[1]!, cidr)) continue;
    if (m[2]!.split(/\s+/).some((t) => t.replace(/\\$/, '') === label)) out.push(m[1]!);
  }
  return out;
}

/** For unprivileged runs (`--no-bind-cluster-ips`): addresses are assumed to be local already. */
export class NoopAddressManager implements AddressManager {
  async ensure(): Promise<boolean> {
    return false;
  }
  async remove(): Promise<void> {}
  async owned(): Promise<string[]> {
    return [];
  }
}
