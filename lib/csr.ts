import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';
import type { KeyPairPem } from './pki';

/**
 * PKCS#10 certificate signing requests for the certificates.k8s.io API: parsing (the
 * apiserver's validation, the approver), creating a key and a CSR (a joining host) and
 * signing one with the cluster CA (the signer). Keys are ECDSA P-256, as lib/pki.ts issues.
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const SAN_OID = '2.5.29.17';

/** The signers Coxswain's controllers sign for (controllers/csr). */
export const SIGNER_KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';
export const SIGNER_KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
export const SIGNER_APISERVER_CLIENT = 'kubernetes.io/kube-apiserver-client';

/** What a CSR asks for: its subject and subject alternative names. */
export interface CsrInfo {
  commonName?: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emails: string[];
  uris: string[];
}

const CSR_PEM = /-----BEGIN CERTIFICATE REQUEST-----[\s\S]+?-----END CERTIFICATE REQUEST-----/;

/** Parses the first PEM `CERTIFICATE REQUEST` block; throws an Error saying why it cannot. */
export function parseCsrPem(pem: string): CsrInfo {
  const m = CSR_PEM.exec(pem);
  if (!m) throw new Error('no PEM block of type "CERTIFICATE REQUEST"');
  let csr: x509.Pkcs10CertificateRequest;
  try { csr = new x509.Pkcs10CertificateRequest(m[0]); } catch (e) { throw new Error(`not a valid certificate request: ${(e as Error).message}`); }
  const info: CsrInfo = { organizations: [], dnsNames: [], ipAddresses: [], emails: [], uris: [] };
  const name = csr.subjectName;
  info.commonName = name.getField('CN')[0];
  info.organizations = name.getField('O');
  const ext = csr.getExtension(SAN_OID);
  if (ext) {
    const san = new x509.SubjectAlternativeNameExtension(ext.rawData);
    for (const g of san.names.items) {
      if (g.type === 'dns') info.dnsNames.push(g.value);
      else if (g.type === 'ip') info.ipAddresses.push(g.value);
      else if (g.type === 'email') info.emails.push(g.value);
      else if (g.type === 'url') info.uris.push(g.value);
    }
  }
  return info;
}

/** Whether the CSR is signed by the key it carries (proof that the requester holds the key). */
export async function verifyCsrSignature(pem: string): Promise<boolean> {
  const m = CSR_PEM.exec(pem);
  if (!m) return false;
  try { return await new x509.Pkcs10CertificateRequest(m[0]).verify(); } catch { return false; }
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return (await webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), ALG, true, ['sign'])) as unknown as CryptoKey;
}

/** A new private key (PKCS#8 PEM) and a CSR (PEM) for the given subject and names. */
export async function createKeyAndCsr(req: { commonName: string; organizations?: string[]; dnsNames?: string[]; ipAddresses?: string[] }): Promise<{ key: string; csr: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const names: x509.JsonGeneralName[] = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(req.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const nameParts: x509.JsonName = [{ CN: [req.commonName] }];
  for (const o of req.organizations ?? []) nameParts.push({ O: [o] });
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name(nameParts),
    keys,
    signingAlgorithm: ALG,
    extensions: names.length ? [new x509.SubjectAlternativeNameExtension(names, false)] : [],
  });
  return { key: await exportKey(keys.privateKey), csr: csr.toString('pem') + '\n' };
}

const KEY_USAGES: Record<string, x509.KeyUsageFlags> = {
  'digital signature': x509.KeyUsageFlags.digitalSignature,
  'key encipherment': x509.KeyUsageFlags.keyEncipherment,
  'content commitment': x509.KeyUsageFlags.nonRepudiation,
  'data encipherment': x509.KeyUsageFlags.dataEncipherment,
  'key agreement': x509.KeyUsageFlags.keyAgreement,
};
const EXT_KEY_USAGES: Record<string, string> = {
  'client auth': x509.ExtendedKeyUsage.clientAuth,
  'server auth': x509.ExtendedKeyUsage.serverAuth,
};

/**
 * Signs a CSR with `ca`: the CSR's subject and alternative names, the key usages given (the
 * certificates.k8s.io names: "client auth", "digital signature", …), valid from a few minutes
 * ago (clock skew) to `notAfter` (never past the CA's own end). Returns the certificate PEM.
 */
export async function signCsr(ca: KeyPairPem, csrPem: string, o: { usages: string[]; notAfter: Date; now: Date }): Promise<string> {
  const m = CSR_PEM.exec(csrPem);
  if (!m) throw new Error('no PEM block of type "CERTIFICATE REQUEST"');
  const csr = new x509.Pkcs10CertificateRequest(m[0]);
  const caCert = new x509.X509Certificate(ca.cert);
  let flags = 0;
  const eku: string[] = [];
  for (const u of o.usages) {
    if (KEY_USAGES[u] !== undefined) flags |= KEY_USAGES[u];
    else if (EXT_KEY_USAGES[u]) eku.push(EXT_KEY_USAGES[u]);
  }
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
  ];
  if (flags) extensions.push(new x509.KeyUsagesExtension(flags, true));
  if (eku.length) extensions.push(new x509.ExtendedKeyUsageExtension(eku, false));
  const san = csr.getExtension(SAN_OID);
  if (san) extensions.push(new x509.SubjectAlternativeNameExtension(san.rawData));
  const b = randomBytes(16);
  b[0] &= 0x7f;
  const notAfter = o.notAfter.getTime() > caCert.notAfter.getTime() ? caCert.notAfter : o.notAfter;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: b.toString('hex'),
    subject: csr.subjectName,
    issuer: caCert.subject,
    notBefore: new Date(o.now.getTime() - 5 * 60 * 1000),
    notAfter,
    signingAlgorithm: ALG,
    publicKey: csr.publicKey,
    signingKey: await importKey(ca.key),
    extensions,
  });
  return cert.toString('pem') + '\n';
}
