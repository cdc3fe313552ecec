import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1';
import { type CsrInfo, SIGNER_APISERVER_CLIENT, SIGNER_KUBELET_CLIENT, SIGNER_KUBELET_SERVING } from '../../lib/csr';

/**
 * What the CSR approver and signer decide, as pure functions of a CertificateSigningRequest
 * and its parsed request (lib/csr.ts parseCsrPem).
 *
 * Approval (Coxswain's policy):
 * - `kubernetes.io/kube-apiserver-client-kubelet`: subject CN=system:node:<name>, O=system:nodes,
 *   no alternative names, usages client auth (+ digital signature, key encipherment), asked by
 *   a bootstrap token (group system:bootstrappers) or by that same node (renewal) — as
 *   Kubernetes' csrapproving controller does;
 * - `kubernetes.io/kubelet-serving`: asked by system:node:<name> (group system:nodes) for
 *   CN=system:node:<name>, O=system:nodes, at least one and only DNS/IP alternative names,
 *   usages server auth (+ digital signature, key encipherment). Kubernetes leaves these to an
 *   external approver; Coxswain approves them so a joined kubelet serves with a certificate
 *   the apiserver can verify. A node can only get its own name this way.
 * Everything else is left for a person (`kubectl certificate approve`).
 *
 * Signing: approved requests of the two kubelet signers (which must meet the same shape) and
 * of `kubernetes.io/kube-apiserver-client` (client auth), with the cluster CA. Denied or
 * Failed requests are never signed.
 */

export { SIGNER_APISERVER_CLIENT, SIGNER_KUBELET_CLIENT, SIGNER_KUBELET_SERVING };
export const SIGNERS = [SIGNER_KUBELET_CLIENT, SIGNER_KUBELET_SERVING, SIGNER_APISERVER_CLIENT];

/** Default certificate lifetime (kube-controller-manager's --cluster-signing-duration default). */
export const DEFAULT_DURATION_S = 365 * 24 * 3600;
export const MIN_DURATION_S = 600;

const NODE_PREFIX = 'system:node:';
const CLIENT_USAGES = new Set(['client auth', 'digital signature', 'key encipherment']);
const SERVING_USAGES = new Set(['server auth', 'digital signature', 'key encipherment']);

const conds = (csr: CertificateSigningRequest) => csr.status?.conditions ?? [];
export const hasCondition = (csr: CertificateSigningRequest, type: string) => conds(csr).some((c) => c.type === type && c.status === 'True');

/** Why a request does not have the shape its kubelet signer requires; undefined when it does. */
export function shapeProblem(csr: CertificateSigningRequest, info: CsrInfo): string | undefined {
  const signer = csr.spec?.signerName;
  const usages = csr.spec?.usages ?? [];
  const cn = info.commonName ?? '';
  if (signer === SIGNER_KUBELET_CLIENT || signer === SIGNER_KUBELET_SERVING) {
    if (!cn.startsWith(NODE_PREFIX) || cn.length === NODE_PREFIX.length) return `subject CN must be system:node:<name>, got ${JSON.stringify(cn)}`;
    if (info.organizations.length !== 1 || info.organizations[0] !== 'system:nodes') return `subject O must be exactly system:nodes, got ${JSON.stringify(info.organizations)}`;
    if (info.emails.length || info.uris.length) return 'email and URI alternative names are not allowed';
  }
  if (signer === SIGNER_KUBELET_CLIENT) {
    if (info.dnsNames.length || info.ipAddresses.length) return 'a kubelet client certificate may not have DNS or IP alternative names';
    if (!usages.includes('client auth') || usages.some((u) => !CLIENT_USAGES.has(u))) return `usages must be client auth (with digital signature, key encipherment allowed), got ${JSON.stringify(usages)}`;
  }
  if (signer === SIGNER_KUBELET_SERVING) {
    if (!info.dnsNames.length && !info.ipAddresses.length) return 'a kubelet serving certificate needs at least one DNS or IP alternative name';
    if (!usages.includes('server auth') || usages.some((u) => !SERVING_USAGES.has(u))) return `usages must be server auth (with digital signature, key encipherment allowed), got ${JSON.stringify(usages)}`;
  }
  if (signer === SIGNER_APISERVER_CLIENT) {
    if (!usages.includes('client auth') || usages.includes('server auth')) return `usages must include client auth and not server auth, got ${JSON.stringify(usages)}`;
  }
  return undefined;
}

export interface Approval { reason: string; message: string }

/**
 * Whether the approver approves a pending request (neither Approved nor Denied yet); undefined
 * leaves it alone. `info` undefined: the request could not be parsed (left alone).
 */
export function approvalFor(csr: CertificateSigningRequest, info: CsrInfo | undefined): Approval | undefined {
  if (!info || hasCondition(csr, 'Approved') || hasCondition(csr, 'Denied') || hasCondition(csr, 'Failed')) return undefined;
  if (shapeProblem(csr, info) !== undefined) return undefined;
  const user = csr.spec?.username ?? '';
  const groups = csr.spec?.groups ?? [];
  const cn = info.commonName ?? '';
  switch (csr.spec?.signerName) {
    case SIGNER_KUBELET_CLIENT:
      if (groups.includes('system:bootstrappers')) return { reason: 'AutoApproved', message: 'Auto approving kubelet client certificate after TLS bootstrapping (bootstrap token).' };
      if (user === cn && groups.includes('system:nodes')) return { reason: 'AutoApproved', message: 'Auto approving self kubelet client certificate after SubjectAccessReview.' };
      return undefined;
    case SIGNER_KUBELET_SERVING:
      if (user === cn && groups.includes('system:nodes')) return { reason: 'AutoApproved', message: 'Auto approving kubelet serving certificate for the node that asked (Coxswain policy).' };
      return undefined;
    default:
      return undefined;
  }
}

export type SignDecision =
  | { action: 'none' }
  /** Set status.certificate to a certificate with these usages, valid until notAfter. */
  | { action: 'sign'; usages: string[]; notAfter: Date }
  /** Set a Failed condition (reason SignerValidationFailure). */
  | { action: 'fail'; message: string };

/** What the signer does with a request at `now`; `info` undefined: the request could not be parsed. */
export function signingFor(csr: CertificateSigningRequest, info: CsrInfo | undefined, now: Date): SignDecision {
  if (!SIGNERS.includes(csr.spec?.signerName ?? '')) return { action: 'none' };
  if (!hasCondition(csr, 'Approved') || hasCondition(csr, 'Denied') || hasCondition(csr, 'Failed') || csr.status?.certificate) return { action: 'none' };
  if (!info) return { action: 'fail', message: 'the request is not a valid PEM certificate request' };
  const problem = shapeProblem(csr, info);
  if (problem) return { action: 'fail', message: problem };
  const want = csr.spec?.expirationSeconds;
  const seconds = want ? Math.min(Math.max(want, MIN_DURATION_S), DEFAULT_DURATION_S) : DEFAULT_DURATION_S;
  return { action: 'sign', usages: csr.spec?.usages ?? [], notAfter: new Date(now.getTime() + seconds * 1000) };
}
