import { readFile } from 'node:fs/promises';
import { parseUpstream, type Upstream } from './forward';

/**
 * The upstream resolvers of cluster DNS: `--dns-upstream` when given, else
 * the nameservers of the node's resolv.conf (systemd-resolved's upstream list
 * when /etc/resolv.conf names only its stub, which the proxy can reach anyway:
 * it runs in the node's network namespace). The cluster DNS address itself is
 * never an upstream (that would loop).
 */
export async function dnsUpstreams(flag: string | undefined, clusterDnsIP?: string, files = ['/etc/resolv.conf']): Promise<Upstream[]> {
  if (flag !== undefined && flag.trim() !== '') return flag.split(',').filter((s) => s.trim()).map(parseUpstream);
  for (const f of files) {
    const text = await readFile(f, 'utf8').catch(() => '');
    const servers = text
      .split('\n')
      .map((l) => l.replace(/[#;].*$/, '').trim().split(/\s+/))
      .filter(([k, v]) => k === 'nameserver' && v && v !== clusterDnsIP)
      .map(([, v]) => v!.replace(/%.*$/, ''));
    const ups = servers.flatMap((s) => {
      try {
        return [parseUpstream(s)];
      } catch {
        return [];
      }
    });
    if (ups.length) return ups;
  }
  return [];
}
