import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

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
}

/** Binds ClusterIPs as /32 (or /128) on a device with iproute2, default `lo`. */
export class IpAddressManager implements AddressManager {
  constructor(private readonly device = 'lo') {}

  private prefix(ip: string): string {
    return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
  }

  async ensure(ip: string): Promise<boolean> {
    try {
      await run('ip', ['addr', 'add', this.prefix(ip), 'dev', this.device]);
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
}

/** For unprivileged runs (`--no-bind-cluster-ips`): addresses are assumed to be local already. */
export class NoopAddressManager implements AddressManager {
  async ensure(): Promise<boolean> {
    return false;
  }
  async remove(): Promise<void> {}
}
