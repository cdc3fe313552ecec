import os from 'node:os';

/** Every address of this host's interfaces (loopback included), as the proxy's `localAddresses`. */
export function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
}
