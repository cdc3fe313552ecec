import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { type TokenVerifier, safeEqual } from './jwt';

/**
 * Authentication: an `Authenticator` maps a request to a user or undefined (→ 401). The
 * apiserver composes, with `firstOf` and in Kubernetes' order: client certificates (CN = user,
 * O = groups), static bearer tokens (--token-auth-file), ServiceAccount JWTs, bootstrap tokens.
 * Every authenticated user is in system:authenticated. Authenticators are synchronous: what
 * they look up (ServiceAccounts, Pods, Secrets) comes from the watch cache.
 */

export interface UserInfo { name: string; groups: string[]; uid?: string; extra?: Record<string, string[]> }
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

/** The bearer token of a request (`Authorization: Bearer <token>`), if any. */
function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

/** Splits one CSV line (RFC 4180 quoting), as Kubernetes reads --token-auth-file. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false; else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

/**
 * Static tokens (`--token-auth-file`): CSV lines `token,user,uid,"group1,group2"` (groups
 * optional; `#` comments and blank lines skipped). Throws on a malformed line.
 */
export function parseTokenFile(text: string): Map<string, UserInfo> {
  const m = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim() || line.trim().startsWith('#')) return;
    const f = csvFields(line);
    if (f.length < 3 || !f[0] || !f[1]) throw new Error(`token file line ${i + 1}: want token,user,uid[,"group1,group2"]`);
    const groups = (f[3] ?? '').split(',').map((g) => g.trim()).filter(Boolean);
    m.set(f[0], { name: f[1], uid: f[2], groups: [...groups, 'system:authenticated'] });
  });
  return m;
}

export function staticTokenAuthenticator(tokens: Map<string, UserInfo>): Authenticator {
  return (req) => {
    const t = bearerToken(req);
    return t === undefined ? undefined : tokens.get(t);
  };
}

/** The fields of a cached object the token authenticators read. */
export interface LookedUpObject {
  metadata?: { uid?: string; deletionTimestamp?: string };
  /** Secrets */
  type?: string;
  data?: Record<string, unknown>;
}

/** What the token authenticators read from the apiserver's watch cache (synchronously). */
export interface ObjectLookup {
  get(resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', namespace: string | undefined, name: string): LookedUpObject | undefined;
}

/**
 * ServiceAccount JWTs: signature, issuer, audience and expiry, then (as Kubernetes' legacy-free
 * validator does) the ServiceAccount and any bound Pod/Secret must still exist with the uids
 * the token names.
 */
export function serviceAccountAuthenticator(verifier: TokenVerifier, objects: ObjectLookup, now: () => number = () => Math.floor(Date.now() / 1000)): Authenticator {
  return (req) => {
    const t = bearerToken(req);
    if (t === undefined || t.split('.').length !== 3) return undefined;
    const c = verifier.verify(t, now());
    if (!c) return undefined;
    const k = c['kubernetes.io'];
    const ns = k.namespace;
    const sa = objects.get('serviceaccounts', ns, k.serviceaccount.name);
    if (!sa || sa.metadata?.uid !== k.serviceaccount.uid || sa.metadata?.deletionTimestamp) return undefined;
    const extra: Record<string, string[]> = {};
    if (k.pod) {
      const pod = objects.get('pods', ns, k.pod.name);
      if (!pod || pod.metadata?.uid !== k.pod.uid) return undefined;
      extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
    }
    if (k.secret) {
      const s = objects.get('secrets', ns, k.secret.name);
      if (!s || s.metadata?.uid !== k.secret.uid) return undefined;
    }
    if (k.node) {
      const n = objects.get('nodes', undefined, k.node.name);
      if (!n || n.metadata?.uid !== k.node.uid) return undefined;
      extra['authentication.kubernetes.io/node-name'] = [k.node.name];
    }
    if (c.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${c.jti}`];
    return {
      name: `system:serviceaccount:${ns}:${k.serviceaccount.name}`,
      uid: k.serviceaccount.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
      extra,
    };
  };
}

const BOOTSTRAP_TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const dataString = (s: LookedUpObject, key: string): string | undefined => {
  const v = s?.data?.[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString() : undefined;
};

/**
 * Bootstrap tokens (`<id>.<secret>`): a Secret `bootstrap-token-<id>` of type
 * bootstrap.kubernetes.io/token in kube-system with usage-bootstrap-authentication "true",
 * not expired. User system:bootstrap:<id>, groups system:bootstrappers (+ auth-extra-groups).
 */
export function bootstrapTokenAuthenticator(objects: ObjectLookup, now: () => Date = () => new Date()): Authenticator {
  return (req) => {
    const t = bearerToken(req);
    const m = t === undefined ? null : BOOTSTRAP_TOKEN.exec(t);
    if (!m) return undefined;
    const [, id, secret] = m;
    const s = objects.get('secrets', 'kube-system', `bootstrap-token-${id}`);
    if (!s || s.type !== 'bootstrap.kubernetes.io/token' || s.metadata?.deletionTimestamp) return undefined;
    if (dataString(s, 'token-id') !== id || !safeEqual(dataString(s, 'token-secret') ?? '', secret)) return undefined;
    if (dataString(s, 'usage-bootstrap-authentication') !== 'true') return undefined;
    const exp = dataString(s, 'expiration');
    if (exp !== undefined && !(Date.parse(exp) > now().getTime())) return undefined;
    const extraGroups = (dataString(s, 'auth-extra-groups') ?? '').split(',').map((g) => g.trim()).filter((g) => /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/.test(g));
    return { name: `system:bootstrap:${id}`, groups: ['system:bootstrappers', ...extraGroups, 'system:authenticated'] };
  };
}
