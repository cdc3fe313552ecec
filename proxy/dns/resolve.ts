import type { Answer, Question } from 'dns-packet';
import type { Zone } from './zone';

/**
 * Answers one question from a zone snapshot, pure. In the cluster domain the
 * answer is authoritative: records, or NODATA (NOERROR, no answers, the SOA in
 * authority) for a name that exists without records of that type, or
 * NXDOMAIN. Reverse names of ClusterIPs and endpoints get their PTR; every
 * other name is for the upstream resolvers.
 */
export type Resolution =
  | {
      kind: 'answer';
      rcode: 'NOERROR' | 'NXDOMAIN' | 'REFUSED';
      authoritative: boolean;
      answers: Answer[];
      authorities: Answer[];
      additionals: Answer[];
      /** An ExternalName's CNAME points out of the zone: the server may ask upstream for this and append the answers. */
      chase?: Question;
    }
  | { kind: 'forward' };

const MAX_CNAME_CHAIN = 8;

/** The deprecated `a-b-c-d.<ns>.pod.<domain>` names (CoreDNS's `pods insecure`, kubeadm's default): the IP from the name. */
function podRecordIP(qname: string, domain: string): string | undefined {
  const m = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.pod\./.exec(qname);
  if (!m || qname.slice(m[0].length) !== domain) return undefined;
  const parts = m.slice(1, 5).map(Number);
  return parts.every((p) => p <= 255) ? parts.join('.') : undefined;
}

const named = (r: Answer, name: string): Answer => ({ ...r, name }) as Answer;

export function inZone(qname: string, domain: string): boolean {
  return qname === domain || qname.endsWith(`.${domain}`);
}

export function resolve(zone: Zone, q: Question): Resolution {
  const qname = q.name.toLowerCase().replace(/\.$/, '');
  const qtype = q.type;
  if (!inZone(qname, zone.domain)) {
    const ptr = zone.ptr.get(qname);
    if (ptr && (qtype === 'PTR' || (qtype as string) === 'ANY')) return { kind: 'answer', rcode: 'NOERROR', authoritative: true, answers: ptr.map((r) => named(r, q.name)), authorities: [], additionals: [] };
    return { kind: 'forward' };
  }
  if (q.class && q.class !== 'IN' && q.class !== 'ANY') return { kind: 'answer', rcode: 'REFUSED', authoritative: false, answers: [], authorities: [], additionals: [] };

  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  let name = qname;
  let owner = q.name;
  for (let depth = 0; ; depth++) {
    const recs = zone.records.get(name) ?? [];
    const cname = recs.find((r) => r.type === 'CNAME');
    if (cname && qtype !== 'CNAME' && depth < MAX_CNAME_CHAIN) {
      answers.push(named(cname, owner));
      const target = String('data' in cname ? cname.data : '');
      if (!inZone(target, zone.domain)) {
        return { kind: 'answer', rcode: 'NOERROR', authoritative: true, answers, authorities: [], additionals, chase: { name: target, type: qtype, class: 'IN' } };
      }
      name = owner = target;
      continue;
    }
    const match = (qtype as string) === 'ANY' ? recs : recs.filter((r) => r.type === qtype);
    if (match.length > 0) {
      for (const r of match) answers.push(named(r, owner));
      // SRV targets' addresses go in the additional section.
      for (const r of match) {
        if (r.type !== 'SRV') continue;
        for (const a of zone.records.get(r.data.target) ?? []) if ((a.type === 'A' || a.type === 'AAAA') && !additionals.includes(a)) additionals.push(a);
      }
      return { kind: 'answer', rcode: 'NOERROR', authoritative: true, answers, authorities: [], additionals };
    }
    if (zone.names.has(name)) return { kind: 'answer', rcode: 'NOERROR', authoritative: true, answers, authorities: [zone.soa], additionals };
    const podIP = podRecordIP(name, zone.domain);
    if (podIP !== undefined) {
      if (qtype === 'A' || (qtype as string) === 'ANY') answers.push({ name: owner, type: 'A', ttl: zone.ttl, class: 'IN', data: podIP });
      return { kind: 'answer', rcode: 'NOERROR', authoritative: true, answers, authorities: answers.length ? [] : [zone.soa], additionals };
    }
    // A CNAME to a missing in-zone name keeps the CNAME, with the target's NXDOMAIN.
    return { kind: 'answer', rcode: 'NXDOMAIN', authoritative: true, answers, authorities: [zone.soa], additionals };
  }
}
