/**
 * Which browser requests the dashboard answers. The dashboard acts with the
 * kubeconfig's credentials, so a page from another site must not be able to
 * drive it (cross-site request forgery), nor a hostile DNS name that resolves
 * to 127.0.0.1 (DNS rebinding). A request is refused when:
 * - its Host is not one this server listens as (localhost, 127.0.0.1, [::1] or
 *   the --address given), with the server's port;
 * - it carries an Origin that is not this server's own origin (browsers send
 *   Origin on every cross-origin fetch, form POST and WebSocket handshake);
 * - it carries Sec-Fetch-Site other than same-origin or none (a link, image or
 *   script tag of another site).
 * Requests without Origin and Sec-Fetch-Site (curl, scripts on this machine)
 * pass, as with `kubectl proxy`.
 */

export interface GuardInput {
  host?: string;
  origin?: string;
  secFetchSite?: string;
}

export type GuardVerdict = { ok: true } | { ok: false; reason: string };

/** Host names (without port) this server answers as: the loopback names, and `address` unless it is a wildcard. */
export function allowedHostNames(address: string): string[] {
  const names = ['localhost', '127.0.0.1', '[::1]'];
  if (address && address !== '0.0.0.0' && address !== '::') names.push(address.includes(':') && !address.startsWith('[') ? `[${address}]` : address);
  return [...new Set(names)];
}

/** The verdict for one request to a server listening on `port` as `hostNames`. */
export function checkRequest(req: GuardInput, hostNames: string[], port: number): GuardVerdict {
  const hosts = new Set(hostNames.map((h) => `${h.toLowerCase()}:${port}`));
  const host = (req.host ?? '').toLowerCase();
  if (!hosts.has(host)) return { ok: false, reason: `host ${JSON.stringify(req.host ?? '')} is not one of ${[...hosts].join(', ')}` };
  if (req.origin !== undefined && req.origin.toLowerCase() !== `http://${host}`) {
    return { ok: false, reason: `origin ${JSON.stringify(req.origin)} is not http://${host}` };
  }
  if (req.secFetchSite !== undefined && req.secFetchSite !== 'same-origin' && req.secFetchSite !== 'none') {
    return { ok: false, reason: `cross-site request (Sec-Fetch-Site: ${req.secFetchSite})` };
  }
  return { ok: true };
}
