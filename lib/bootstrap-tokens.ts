import type { Secret } from 'kubernetes-types/core/v1';
import { type ApiClient, ApiError } from './client';
import { formatJoinToken, newTokenId, newTokenSecret } from './join-token';
import { SECRETS } from './resources';
import { rfc3339 } from './time';

/**
 * Join tokens as stored: bootstrap-token Secrets (`bootstrap-token-<id>`, type
 * bootstrap.kubernetes.io/token, kube-system) that the apiserver's bootstrap token
 * authenticator accepts. A server token also carries the group
 * system:bootstrappers:coxswain:server, which may fetch the server bootstrap files.
 */

export type JoinRole = 'agent' | 'server';
export const SERVER_TOKEN_GROUP = 'system:bootstrappers:coxswain:server';
const NS = 'kube-system';
const TYPE = 'bootstrap.kubernetes.io/token';

export interface JoinTokenOptions {
  role: JoinRole;
  /** Lifetime in ms; 0 or undefined: never expires. */
  ttlMs?: number;
  description?: string;
  /** now, for the expiration (default the wall clock) */
  now?: Date;
}

/** The Secret of a new bootstrap token (pure). */
export function bootstrapTokenSecret(id: string, secret: string, o: JoinTokenOptions): Secret {
  const now = o.now ?? new Date();
  const data: Record<string, string> = {
    'token-id': id,
    'token-secret': secret,
    'usage-bootstrap-authentication': 'true',
    'usage-bootstrap-signing': 'true',
  };
  if (o.ttlMs) data.expiration = rfc3339(new Date(now.getTime() + o.ttlMs));
  if (o.description) data.description = o.description;
  if (o.role === 'server') data['auth-extra-groups'] = SERVER_TOKEN_GROUP;
  return {
    apiVersion: 'v1', kind: 'Secret', type: TYPE,
    metadata: { name: `bootstrap-token-${id}`, namespace: NS, labels: { 'coxswain.io/join-role': o.role } },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

/** Creates a bootstrap token and returns the join token text (K10<CA hash>::<id>.<secret>). */
export async function createJoinToken(client: ApiClient, caPem: string, o: JoinTokenOptions): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const id = newTokenId();
    const secret = newTokenSecret();
    try {
      await client.create(SECRETS, bootstrapTokenSecret(id, secret, o), NS);
      return formatJoinToken(caPem, id, secret);
    } catch (e) {
      // an id already taken (1 in 2 billion): draw another
      if (!(e instanceof ApiError && e.conflict && attempt < 3)) throw e;
    }
  }
}

/** A stored token as `coxswain token list` shows it (never its secret). */
export interface JoinTokenInfo {
  id: string;
  role: JoinRole;
  /** RFC 3339; undefined: never expires */
  expiration?: string;
  description: string;
}

const field = (s: Secret, k: string): string | undefined => (s.data?.[k] !== undefined ? Buffer.from(s.data[k], 'base64').toString('utf8') : undefined);

/** Reads the token fields of a bootstrap-token Secret; undefined for other Secrets. */
export function joinTokenInfo(s: Secret): JoinTokenInfo | undefined {
  const id = field(s, 'token-id');
  if (s.type !== TYPE || !id || s.metadata?.name !== `bootstrap-token-${id}`) return undefined;
  const groups = (field(s, 'auth-extra-groups') ?? '').split(',').map((g) => g.trim());
  return { id, role: groups.includes(SERVER_TOKEN_GROUP) ? 'server' : 'agent', expiration: field(s, 'expiration'), description: field(s, 'description') ?? '' };
}

export async function listJoinTokens(client: ApiClient): Promise<JoinTokenInfo[]> {
  const list = await client.list<Secret>(SECRETS, { namespace: NS, fieldSelector: `type=${TYPE}` });
  return list.items.map(joinTokenInfo).filter((t): t is JoinTokenInfo => !!t).sort((a, b) => a.id.localeCompare(b.id));
}

/** Deletes a token by id; false when there was none. */
export async function deleteJoinToken(client: ApiClient, id: string): Promise<boolean> {
  if (!/^[a-z0-9]{6}$/.test(id)) throw new Error(`token id ${JSON.stringify(id)}: want 6 characters a-z or 0-9 (the part before the "." in <id>.<secret>)`);
  return (await client.delete(SECRETS, `bootstrap-token-${id}`, { namespace: NS, ignoreNotFound: true })) !== undefined;
}
