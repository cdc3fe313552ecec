import type { CertificateSigningRequest as Csr, CertificateSigningRequestCondition, CertificateSigningRequestSpec } from 'kubernetes-types/certificates/v1';
import { base } from '../shared/defs';
import { type FieldError, forbidden, immutable, invalid, notSupported, required } from '../shared/fields';
import { AGE, NAME, objectAge } from '../shared/printers';
import { isObject } from '../../json';
import type { ResourceDef, StatusSubresource } from '../types';
import type { ApiObject } from '../../api-object';
import { parseCsrPem } from '../../../lib/csr';
import { humanDuration } from '../../../lib/duration';

/**
 * CertificateSigningRequest (certificates.k8s.io/v1), cluster-scoped: a PEM CSR, the signer
 * that should sign it and the usages asked for. Who asked (spec.username, uid, groups, extra)
 * is filled in from the requesting user on create and cannot be set. Approval is the
 * /approval subresource (Approved/Denied conditions), the signed certificate comes through
 * /status. The spec is immutable; a certificate, once issued, too.
 */

export const KEY_USAGES = ['signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment',
  'cert sign', 'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing', 'email protection',
  's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing', 'microsoft sgc', 'netscape sgc'];
const CONDITION_TYPES = ['Approved', 'Denied', 'Failed'];
const APPROVAL_TYPES = new Set(['Approved', 'Denied']);
/** A signer name: `<domain>/<path>`, the domain a DNS subdomain. */
const SIGNER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;
/** A CSR as stored objects are typed here: the spec may be missing until validated. */
type CertificateSigningRequest = Omit<Csr, 'spec'> & { spec?: CertificateSigningRequestSpec };

const CERT_PEM = /-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;

const decodeBase64 = (v: string): string | undefined => (/^[A-Za-z0-9+/]*={0,2}$/.test(v) ? Buffer.from(v, 'base64').toString('utf8') : undefined);

function validateSpec(o: CertificateSigningRequest): FieldError[] {
  const s = o.spec;
  if (!isObject(s)) return [required('spec')];
  const errs: FieldError[] = [];
  if (typeof s.request !== 'string' || !s.request) errs.push(required('spec.request'));
  else {
    const pem = decodeBase64(s.request);
    if (pem === undefined) errs.push(invalid('spec.request', '<bytes>', 'must be base64-encoded PEM'));
    else {
      try { parseCsrPem(pem); } catch (e) { errs.push(invalid('spec.request', '<PEM>', `${(e as Error).message}`)); }
    }
  }
  if (typeof s.signerName !== 'string' || !s.signerName) errs.push(required('spec.signerName'));
  else if (!SIGNER_NAME.test(s.signerName) || s.signerName.length > 571) errs.push(invalid('spec.signerName', s.signerName, 'must be a fully qualified domain and path of the form "example.com/signer-name"'));
  if (!Array.isArray(s.usages) || !s.usages.length) errs.push(required('spec.usages'));
  else s.usages.forEach((u, i) => { if (!KEY_USAGES.includes(u)) errs.push(notSupported(`spec.usages[${i}]`, u, KEY_USAGES)); });
  if (s.expirationSeconds !== undefined && s.expirationSeconds !== null && (!Number.isInteger(s.expirationSeconds) || s.expirationSeconds < 600)) {
    errs.push(invalid('spec.expirationSeconds', s.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  return errs;
}

function validateStatus(o: CertificateSigningRequest, old?: CertificateSigningRequest): FieldError[] {
  const st = o.status;
  if (st === undefined || st === null) return [];
  if (!isObject(st)) return [invalid('status', st, 'must be an object')];
  const errs: FieldError[] = [];
  const conds = Array.isArray(st.conditions) ? st.conditions : [];
  const seen = new Set<string>();
  conds.forEach((c, i) => {
    const f = `status.conditions[${i}]`;
    if (typeof c?.type !== 'string' || !c.type) { errs.push(required(`${f}.type`)); return; }
    if (!['True', 'False', 'Unknown'].includes(c.status)) errs.push(notSupported(`${f}.status`, c.status, ['True', 'False', 'Unknown']));
    if (CONDITION_TYPES.includes(c.type) && seen.has(c.type)) errs.push({ field: `${f}.type`, reason: 'FieldValueDuplicate', message: `Duplicate value: "${c.type}"` });
    seen.add(c.type);
  });
  if (isTrue(o, 'Approved') && isTrue(o, 'Denied')) errs.push(invalid('status.conditions', 'Approved, Denied', 'Approved and Denied conditions are mutually exclusive'));
  if (old) {
    for (const t of CONDITION_TYPES) if (isTrue(old, t) && !isTrue(o, t)) errs.push(forbidden('status.conditions', `updates may not remove a condition of type "${t}"`));
    if (old.status?.certificate && o.status?.certificate !== old.status.certificate) errs.push(...immutable('status.certificate', o.status?.certificate, old.status.certificate));
  }
  if (st.certificate !== undefined && st.certificate !== null && st.certificate !== '') {
    const pem = typeof st.certificate === 'string' ? decodeBase64(st.certificate) : undefined;
    if (!pem || !(pem.match(CERT_PEM) ?? []).length) errs.push(invalid('status.certificate', '<certificate data>', 'must contain at least one PEM block of type "CERTIFICATE"'));
    else if (!isTrue(o, 'Approved')) errs.push(forbidden('status.certificate', 'may only be set when the request is approved'));
    else if (isTrue(o, 'Failed')) errs.push(forbidden('status.certificate', 'may not be set when the request has failed'));
  }
  return errs;
}

export function validateCSR(o: CertificateSigningRequest, old?: CertificateSigningRequest): FieldError[] {
  const errs = validateSpec(o);
  if (old) errs.push(...immutable('spec', o.spec, old.spec));
  errs.push(...validateStatus(o, old));
  return errs;
}

const conditions = (o: CertificateSigningRequest | undefined): CertificateSigningRequestCondition[] => (Array.isArray(o?.status?.conditions) ? o!.status!.conditions! : []);
const isTrue = (o: CertificateSigningRequest | undefined, type: string) => conditions(o).some((c) => c?.type === type && c.status === 'True');

/**
 * /approval changes only the Approved and Denied conditions; /status changes everything but
 * those (as Kubernetes' status strategies do).
 */
export function csrSubresourceStatus(sub: StatusSubresource, cur: ApiObject, incoming: unknown): unknown {
  const old = (cur as CertificateSigningRequest).status ?? {};
  const inc = (isObject(incoming) ? incoming : {}) as CertificateSigningRequest['status'] & object;
  const incConds = Array.isArray(inc.conditions) ? inc.conditions : [];
  const oldConds = Array.isArray(old.conditions) ? old.conditions : [];
  const approval = (c: CertificateSigningRequestCondition) => APPROVAL_TYPES.has(c?.type);
  if (sub === 'approval') return { ...old, conditions: [...oldConds.filter((c) => !approval(c)), ...incConds.filter(approval)] };
  return { ...inc, conditions: [...oldConds.filter(approval), ...incConds.filter((c) => !approval(c))] };
}

/** The Condition column: Approved, Denied, Failed and Issued, comma-separated; Pending when none. */
export function csrCondition(o: CertificateSigningRequest): string {
  const out = conditions(o).filter((c) => isObject(c) && (c.status === 'True' || c.status === undefined)).map((c) => String(c.type));
  if (o.status?.certificate) out.push('Issued');
  return out.length ? out.join(',') : 'Pending';
}

export const CERTIFICATE_SIGNING_REQUEST: ResourceDef = {
  ...base, group: 'certificates.k8s.io', kind: 'CertificateSigningRequest', listKind: 'CertificateSigningRequestList',
  plural: 'certificatesigningrequests', singular: 'certificatesigningrequest', shortNames: ['csr'], namespaced: false,
  hasStatus: true, statusOnCreate: 'clear', subresources: ['status', 'approval'], fieldLabels: ['spec.signerName'],
  setRequester(o: CertificateSigningRequest, user) {
    if (!isObject(o.spec)) return;
    delete o.spec.username; delete o.spec.uid; delete o.spec.groups; delete o.spec.extra;
    if (!user) return;
    o.spec.username = user.name;
    if (user.uid) o.spec.uid = user.uid;
    o.spec.groups = [...user.groups];
    if (user.extra && Object.keys(user.extra).length) o.spec.extra = structuredClone(user.extra);
  },
  defaults(o: CertificateSigningRequest) {
    for (const c of conditions(o)) if (isObject(c) && !c.status) c.status = 'True';
  },
  validate: (o, _ctx, old) => validateCSR(o as CertificateSigningRequest, old as CertificateSigningRequest | undefined),
  strategy: { subresourceStatus: csrSubresourceStatus },
  printer: {
    columns: [NAME, AGE, ['SignerName', 'string'], ['Requestor', 'string'], ['RequestedDuration', 'string'], ['Condition', 'string']],
    cells: (o: CertificateSigningRequest, now) => [o.metadata?.name, objectAge(o, now), o.spec?.signerName ?? '', o.spec?.username ?? '',
      o.spec?.expirationSeconds ? humanDuration(o.spec.expirationSeconds * 1000) : '<none>', csrCondition(o)],
  },
};
