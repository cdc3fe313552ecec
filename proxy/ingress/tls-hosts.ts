import type { Ingress } from 'kubernetes-types/networking/v1';
import { byAge, hostEntry, hostLookup, ingressKey, type HostMap } from './routes';

/**
 * Which Secret serves which TLS server name, pure: each `spec.tls` entry's
 * hosts (exact or `*.` wildcard, one label) name a Secret in the Ingress's
 * namespace. Exact beats wildcard; the oldest Ingress wins a host claimed
 * twice. An entry without hosts covers server names no entry names.
 */

export interface TlsSecretRef {
  /** `namespace/name` of the Secret. */
  secret: string;
  /** The Ingresses that asked for it (for events when it is unusable). */
  ingresses: string[];
}

export interface TlsTable {
  hosts: HostMap<TlsSecretRef>;
  fallback?: TlsSecretRef;
  /** Every Secret named, by `namespace/name`. */
  secrets: Map<string, TlsSecretRef>;
}

export function buildTlsTable(ingresses: Iterable<Ingress>): TlsTable {
  const table: TlsTable = { hosts: { exact: new Map(), wildcard: new Map() }, secrets: new Map() };
  for (const ing of [...ingresses].sort(byAge)) {
    const ns = ing.metadata?.namespace ?? 'default';
    for (const t of ing.spec?.tls ?? []) {
      if (!t?.secretName) continue;
      const key = `${ns}/${t.secretName}`;
      let ref = table.secrets.get(key);
      if (!ref) table.secrets.set(key, (ref = { secret: key, ingresses: [] }));
      if (!ref.ingresses.includes(ingressKey(ing))) ref.ingresses.push(ingressKey(ing));
      const hosts = (t.hosts ?? []).filter(Boolean);
      if (!hosts.length) table.fallback ??= ref;
      for (const h of hosts) hostEntry(table.hosts, h.toLowerCase(), () => ref);
    }
  }
  return table;
}

/** The Secret for a TLS server name (SNI), if any entry covers it. */
export function secretForServerName(table: TlsTable, serverName: string | undefined): TlsSecretRef | undefined {
  const name = (serverName ?? '').toLowerCase().replace(/\.$/, '');
  return (name ? hostLookup(table.hosts, name) : undefined) ?? table.fallback;
}
