/**
 * Header rules of the Ingress reverse proxy, pure (on Node's flat
 * `rawHeaders` lists: name, value, name, value, ...; names keep their case and
 * repeated headers stay repeated).
 *
 * Towards the backend: hop-by-hop headers (RFC 9110 7.6.1: Connection and the
 * headers it names, Keep-Alive, Proxy-Connection, TE, Trailer,
 * Transfer-Encoding, Upgrade, and the Proxy-Authenticate/-Authorization pair)
 * are removed; `Host` is kept as the client sent it; `X-Forwarded-For` gets the
 * client's address appended (as nginx's `$proxy_add_x_forwarded_for` and Go's
 * ReverseProxy do); `X-Forwarded-Proto`, `-Host` and `-Port` are replaced by
 * what this proxy saw (a client cannot forge them). An upgrade request (a
 * WebSocket) keeps `Connection: Upgrade` and its `Upgrade` header.
 *
 * Towards the client: the same hop-by-hop headers are removed from the
 * backend's response (Node's server adds its own framing).
 */

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);
const FORWARDED = new Set(['x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port']);

export interface ForwardInfo {
  /** The client's address as the socket saw it (an IPv4-mapped IPv6 address is shown as IPv4). */
  clientAddress: string;
  proto: 'http' | 'https';
  /** The port the client connected to. */
  localPort: number;
  /** The protocol of an upgrade request (`websocket`), kept end to end. */
  upgrade?: string;
}

/** Header names listed in Connection headers (lower case): hop-by-hop for this message only. */
function connectionTokens(raw: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1]!.split(',')) if (t.trim()) out.add(t.trim().toLowerCase());
  }
  return out;
}

function stripHopByHop(raw: readonly string[], alsoDrop?: Set<string>): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(n) || named.has(n) || alsoDrop?.has(n)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

export function clientIp(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The request headers to send to the backend. */
export function upstreamRequestHeaders(raw: readonly string[], info: ForwardInfo): string[] {
  const xff: string[] = [];
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!.toLowerCase();
    if (n === 'x-forwarded-for') xff.push(raw[i + 1]!);
    else if (n === 'host' && host === undefined) host = raw[i + 1]!;
  }
  const out = stripHopByHop(raw, new Set([...FORWARDED, 'x-forwarded-for']));
  const ip = clientIp(info.clientAddress);
  out.push('X-Forwarded-For', [...xff, ip].filter(Boolean).join(', '));
  if (host !== undefined) out.push('X-Forwarded-Host', host);
  out.push('X-Forwarded-Port', String(info.localPort), 'X-Forwarded-Proto', info.proto);
  if (info.upgrade) out.push('Connection', 'Upgrade', 'Upgrade', info.upgrade);
  return out;
}

/** The response headers to send to the client. */
export function downstreamResponseHeaders(raw: readonly string[]): string[] {
  return stripHopByHop(raw);
}

/** The value of the first header called `name` (lower case), if any. */
export function headerValue(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}
