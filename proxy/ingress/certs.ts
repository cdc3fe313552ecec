import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, webcrypto } from 'node:crypto';
import tls from 'node:tls';
import type { Secret } from 'kubernetes-types/core/v1';
import { ALG, exportKey, serial, type KeyPairPem } from '../../lib/pki';

/**
 * TLS certificates of the Ingress server: Secrets of type kubernetes.io/tls
 * turned into secure contexts, cached per Secret resourceVersion (a changed
 * Secret is parsed again on its next use, an unchanged one never), and the
 * self-signed default certificate served when no valid Secret covers a name.
 */

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

export type SecretContext = { context: tls.SecureContext } | { error: string };

/** Checks a TLS Secret and builds its secure context; `error` names the field and the reason. */
export function secureContextOf(secret: Secret): SecretContext {
  if (secret.type !== TLS_SECRET_TYPE) return { error: `type is ${JSON.stringify(secret.type ?? '')}, want ${TLS_SECRET_TYPE}` };
  const cert = Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString('utf8');
  const key = Buffer.from(secret.data?.['tls.key'] ?? '', 'base64').toString('utf8');
  if (!cert.trim()) return { error: 'data[tls.crt] is empty' };
  if (!key.trim()) return { error: 'data[tls.key] is empty' };
  try {
    new X509Certificate(cert);
  } catch (err) {
    return { error: `data[tls.crt] is not a PEM certificate: ${(err as Error).message}` };
  }
  try {
    return { context: tls.createSecureContext({ cert, key }) };
  } catch (err) {
    return { error: `data[tls.key] does not fit data[tls.crt]: ${(err as Error).message}` };
  }
}

/** Secure contexts of Secrets by `namespace/name`, rebuilt only when the resourceVersion changes. */
export class SecretContextCache {
  private readonly entries = new Map<string, { resourceVersion: string; result: SecretContext }>();

  get(key: string, secret: Secret): SecretContext {
    const rv = secret.metadata?.resourceVersion ?? '';
    const hit = this.entries.get(key);
    if (hit && hit.resourceVersion === rv && rv) return hit.result;
    const result = secureContextOf(secret);
    this.entries.set(key, { resourceVersion: rv, result });
    return result;
  }

  /** Forgets Secrets no longer named by any Ingress (or deleted). */
  retain(keys: Set<string>): void {
    for (const k of this.entries.keys()) if (!keys.has(k)) this.entries.delete(k);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** A self-signed serving certificate (ECDSA P-256), made at proxy start for names no Secret covers. */
export async function selfSignedCertificate(commonName = 'Coxswain Ingress default certificate', validDays = 365): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: new x509.Name([{ CN: [commonName] }, { O: ['coxswain'] }]),
    notBefore: new Date(now - 5 * 60_000),
    notAfter: new Date(now + validDays * 86_400_000),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'ingress.coxswain.invalid' }], false),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: await exportKey(keys.privateKey) };
}
