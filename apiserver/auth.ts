import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';

/**
 * Authentication seam: `Authenticator` maps a request to a user or undefined (→ 401).
 * Today: client certificates (CN = user, O = groups). Tokens and ServiceAccounts plug in by
 * composing authenticators with `firstOf`.
 */

export interface UserInfo { name: string; groups: string[] }
export type Authenticator = (req: FastifyRequest) => UserInfo | undefined;

const bySocket = new WeakMap<object, UserInfo | null>();

/** The TLS client certificate verified against --client-ca-file (requestCert, rejectUnauthorized: false). */
export const clientCertificateAuthenticator: Authenticator = (req) => {
  const socket = req.raw.socket as TLSSocket;
  const cached = bySocket.get(socket);
  if (cached !== undefined) return cached ?? undefined;
  let user: UserInfo | null = null;
  if (socket && (socket as TLSSocket).authorized && typeof socket.getPeerCertificate === 'function') {
    const cert = socket.getPeerCertificate();
    const cn = cert?.subject?.CN;
    const o = cert?.subject?.O;
    if (cn) user = { name: Array.isArray(cn) ? cn[0] : cn, groups: [...(o === undefined ? [] : Array.isArray(o) ? o : [o]), 'system:authenticated'] };
  }
  if (socket) bySocket.set(socket, user);
  return user ?? undefined;
};

export function firstOf(...auths: Authenticator[]): Authenticator {
  return (req) => {
    for (const a of auths) {
      const u = a(req);
      if (u) return u;
    }
    return undefined;
  };
}
