import { type KeyObject, createHash, createPrivateKey, createPublicKey, randomUUID, sign, timingSafeEqual, verify } from 'node:crypto';

/**
 * ServiceAccount tokens as Kubernetes issues them: compact JWS (RFC 7515) signed ES256 (an EC
 * P-256 key) or RS256 (an RSA key), with Kubernetes' claims. Pure apart from the clock, which
 * callers pass in (seconds since the epoch).
 */

export interface ServiceAccountClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti?: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
    node?: { name: string; uid: string };
    warnafter?: number;
  };
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function algOf(key: KeyObject): 'ES256' | 'RS256' {
  if (key.asymmetricKeyType === 'ec') return 'ES256';
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  throw new Error(`unsupported ServiceAccount key type ${key.asymmetricKeyType} (want EC P-256 or RSA)`);
}

/** Kubernetes' key id: base64url(SHA-256(DER SPKI)). */
function keyId(pub: KeyObject): string {
  return b64url(createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest());
}

export class TokenSigner {
  private readonly key: KeyObject;
  private readonly alg: 'ES256' | 'RS256';
  private readonly kid: string;
  constructor(privatePem: string | Buffer, readonly issuer: string) {
    this.key = createPrivateKey(privatePem);
    this.alg = algOf(this.key);
    this.kid = keyId(createPublicKey(this.key));
  }

  sign(claims: Omit<ServiceAccountClaims, 'iss'>): string {
    const header = b64url(JSON.stringify({ alg: this.alg, kid: this.kid }));
    const payload = b64url(JSON.stringify({ ...claims, iss: this.issuer }));
    const input = `${header}.${payload}`;
    const sig = this.alg === 'ES256' ? sign('sha256', Buffer.from(input), { key: this.key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(input), this.key);
    return `${input}.${b64url(sig)}`;
  }

  /** Claims for a token of ServiceAccount ns/name valid `seconds` from `now`. */
  static claims(now: number, seconds: number, audiences: string[], ns: string, sa: { name: string; uid: string }, bound?: { kind: string; name: string; uid: string }): Omit<ServiceAccountClaims, 'iss'> {
    const k8s: ServiceAccountClaims['kubernetes.io'] = { namespace: ns, serviceaccount: sa };
    if (bound?.kind === 'Pod') k8s.pod = { name: bound.name, uid: bound.uid };
    if (bound?.kind === 'Secret') k8s.secret = { name: bound.name, uid: bound.uid };
    if (bound?.kind === 'Node') k8s.node = { name: bound.name, uid: bound.uid };
    return { sub: `system:serviceaccount:${ns}:${sa.name}`, aud: audiences, exp: now + seconds, iat: now, nbf: now, jti: randomUUID(), 'kubernetes.io': k8s };
  }
}

/** Verifies tokens against one or more public keys (a PEM file may hold several). */
export class TokenVerifier {
  private readonly keys: KeyObject[];
  constructor(publicPems: string[], readonly issuers: string[], readonly audiences: string[]) {
    this.keys = [];
    for (const pem of publicPems) {
      for (const block of pem.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? []) {
        try { this.keys.push(createPublicKey(block)); } catch { /* not a key (a certificate chain's other parts) */ }
      }
    }
    if (!this.keys.length) throw new Error('no ServiceAccount public key found');
  }

  /** The claims of a valid, unexpired token issued here for one of our audiences; undefined otherwise. */
  verify(token: string, now: number): ServiceAccountClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || token.length > 16 * 1024) return undefined;
    // untrusted JSON: every field is checked before it is used
    let header: { alg?: unknown } | null, claims: Record<string, unknown> | null;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    } catch { return undefined; }
    if (!header || (header.alg !== 'ES256' && header.alg !== 'RS256') || !claims || typeof claims !== 'object') return undefined;
    // cheap checks first: only tokens that claim to be ours are worth a signature check
    if (typeof claims.iss !== 'string' || !this.issuers.includes(claims.iss)) return undefined;
    const input = Buffer.from(`${parts[0]}.${parts[1]}`);
    const sig = Buffer.from(parts[2], 'base64url');
    const ok = this.keys.some((k) => {
      try {
        if (algOf(k) !== header.alg) return false;
        return header.alg === 'ES256' ? verify('sha256', input, { key: k, dsaEncoding: 'ieee-p1363' }, sig) : verify('sha256', input, k, sig);
      } catch { return false; }
    });
    if (!ok) return undefined;
    const skew = 60;
    if (typeof claims.exp !== 'number' || claims.exp + skew < now) return undefined;
    if (typeof claims.nbf === 'number' && claims.nbf - skew > now) return undefined;
    const aud: string[] = Array.isArray(claims.aud) ? claims.aud : typeof claims.aud === 'string' ? [claims.aud] : [];
    if (!aud.some((a) => this.audiences.includes(a))) return undefined;
    const k8s = claims['kubernetes.io'] as { namespace?: unknown; serviceaccount?: { name?: unknown } } | undefined;
    if (!k8s || typeof k8s.namespace !== 'string' || typeof k8s.serviceaccount?.name !== 'string') return undefined;
    return claims as unknown as ServiceAccountClaims;
  }
}

/** Constant-time string comparison (token secrets). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
