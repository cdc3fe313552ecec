import { type ConfChange, encodeConfChange } from '../raft/confchange';
import type { Entry } from '../raft/types';
import { EtcdError } from '../errors';
import { hostPort } from '../config';
import type { MemberInfo } from './member-info';

/**
 * The store's member list as the log and snapshots carry it: the member record,
 * the `context` of its ConfChange entries, the bootstrap entries of a new
 * cluster, and applying a committed change to the list. Pure (no IO); the member
 * (etcd-server.ts) owns the maps and proposes the changes.
 */

/** The `context` of the store's ConfChange entries. */
export interface ConfContext {
  /** Request id of the proposer's waiter (absent for bootstrap entries). */
  reqId?: string;
  member: { idHex: string; name: string; peerURLs: string[] };
}

export function bootstrapEntries(members: MemberInfo[]): Entry[] {
  return [...members]
    .sort((a, b) => (a.idHex < b.idHex ? -1 : 1))
    .map((m, i) => ({
      term: 1,
      index: i + 1,
      type: 'ConfChange' as const,
      data: encodeConfChange({ type: 'AddNode', nodeId: m.idHex, context: JSON.stringify({ member: { idHex: m.idHex, name: m.name, peerURLs: m.peerURLs } } satisfies ConfContext) }),
    }));
}

/** The ConfContext of a change, or undefined if absent or malformed. */
export function parseConfContext(cc: ConfChange): ConfContext | undefined {
  try {
    return JSON.parse(cc.context) as ConfContext;
  } catch {
    return undefined;
  }
}

/**
 * Apply a committed membership change to `members` and `removed` (the same on
 * every member). AddNode keeps a known name and client URLs; RemoveNode remembers
 * the id so its messages are ignored; UpdateNode replaces the peer URLs.
 */
export function applyMemberChange(members: Map<string, MemberInfo>, removed: Set<string>, cc: ConfChange, info: ConfContext['member'] | undefined): void {
  if (cc.type === 'AddNode') {
    const prev = members.get(cc.nodeId);
    members.set(cc.nodeId, {
      idHex: cc.nodeId,
      name: prev?.name || info?.name || '',
      peerURLs: info?.peerURLs ?? prev?.peerURLs ?? [],
      clientURLs: prev?.clientURLs ?? [],
    });
    removed.delete(cc.nodeId);
  } else if (cc.type === 'RemoveNode') {
    members.delete(cc.nodeId);
    removed.add(cc.nodeId);
  } else if (info) {
    const m = members.get(cc.nodeId);
    if (m) m.peerURLs = info.peerURLs.slice();
  }
}

/**
 * Replace `members` by a snapshot's list. Client URLs are not always in the
 * snapshot (a member publishes them through the log); the ones known here are kept.
 */
export function restoreMembers(members: Map<string, MemberInfo>, fromSnapshot: MemberInfo[]): void {
  const clientURLs = new Map([...members.values()].map((m) => [m.idHex, m.clientURLs]));
  members.clear();
  for (const m of fromSnapshot) members.set(m.idHex, { ...m, clientURLs: m.clientURLs.length > 0 ? m.clientURLs : (clientURLs.get(m.idHex) ?? []) });
}

/** MemberAdd's checks: at least one peer URL, each a valid URL (InvalidArgument). */
export function checkPeerURLs(peerURLs: string[]): void {
  if (peerURLs.length === 0) throw new EtcdError('InvalidArgument', 'no peer URLs');
  for (const u of peerURLs) {
    try {
      hostPort(u);
    } catch (e) {
      throw new EtcdError('InvalidArgument', (e as Error).message);
    }
  }
}

/** PeerURLExist if another member (not `except`) already uses one of `peerURLs`. */
export function checkPeerURLsFree(members: Map<string, MemberInfo>, peerURLs: string[], except?: string): void {
  for (const m of members.values()) if (m.idHex !== except && m.peerURLs.some((u) => peerURLs.includes(u))) throw new EtcdError('PeerURLExist');
}

/**
 * etcd's strict reconfiguration check before adding a voting member, run by the
 * leader right before it proposes the change (so concurrent adds are judged one
 * after the other):
 * - the started members (those that published their name; an added member that
 *   has not started has none) must be a quorum of the new membership, or the
 *   cluster could stall until the new member starts (NotEnoughStartedMembers).
 *   A lone member may add a second one: there is no other way to grow;
 * - the leader must be connected to every other member (`connected`), or the new
 *   quorum might not be reachable (Unhealthy, etcd's "unhealthy cluster").
 * Both errors are temporary: a joiner retries with backoff.
 */
export function checkMayAddMember(members: Iterable<MemberInfo>, selfId: string, connected: (id: string) => boolean): void {
  const list = [...members];
  const nmembers = list.length + 1;
  const nstarted = list.filter((m) => m.name !== '').length;
  const loneMemberAddsOne = nstarted === 1 && nmembers === 2;
  if (!loneMemberAddsOne && nstarted < Math.floor(nmembers / 2) + 1) throw new EtcdError('NotEnoughStartedMembers');
  if (list.some((m) => m.idHex !== selfId && !connected(m.idHex))) throw new EtcdError('Unhealthy');
}

/**
 * The leader's checks of an AddNode just before proposing it, against the
 * applied member list: the id is new and was never removed (a removed member
 * cannot come back under its old id), and its peer URLs are free (two adds of
 * the same URL racing each other: the second is refused once the first is in).
 */
export function checkAddNode(members: Map<string, MemberInfo>, removed: Set<string>, member: ConfContext['member']): void {
  if (removed.has(member.idHex)) throw new EtcdError('MemberNotFound', `member ${member.idHex} was removed from the cluster`);
  if (members.has(member.idHex)) throw new EtcdError('MemberExist');
  checkPeerURLsFree(members, member.peerURLs);
}
