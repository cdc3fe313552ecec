import { createHash } from 'node:crypto';

/**
 * Member and cluster ids are uint64, derived deterministically (like etcd's
 * computeMemberId/genID, though not byte-identical): a member id from its name,
 * its sorted peer URLs and the cluster token; the cluster id from the sorted
 * member ids. Carried as 16 hex digits inside Coxswain and as decimal strings in
 * etcd protobuf uint64 fields (exact; JS numbers would lose bits).
 */

function hash64(s: string): string {
  let h = createHash('sha256').update(s).digest().subarray(0, 8).toString('hex');
  if (h === '0000000000000000') h = '0000000000000001'; // 0 means "none" in etcd
  return h;
}

export function memberIdHex(name: string, peerURLs: string[], clusterToken: string): string {
  return hash64(`member\0${name}\0${[...peerURLs].sort().join(',')}\0${clusterToken}`);
}

export function clusterIdHex(memberIdsHex: string[], clusterToken: string): string {
  return hash64(`cluster\0${[...memberIdsHex].sort().join(',')}\0${clusterToken}`);
}

export function hexToDec(hex: string): string {
  return hex ? BigInt(`0x${hex}`).toString(10) : '0';
}

export function decToHex(dec: string | number): string {
  return BigInt(dec).toString(16).padStart(16, '0');
}
