/** A cluster member as the membership log and the configuration describe it. */
export interface MemberInfo {
  /** Raft node id: the member id as 16 hex digits. */
  idHex: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}
