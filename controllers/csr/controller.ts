import type { CertificateSigningRequest, CertificateSigningRequestCondition } from 'kubernetes-types/certificates/v1';
import { ApiError } from '../../lib/client';
import { type CsrInfo, parseCsrPem, signCsr, verifyCsrSignature } from '../../lib/csr';
import type { KeyPairPem } from '../../lib/pki';
import { CERTIFICATE_SIGNING_REQUESTS, resourcePath } from '../../lib/resources';
import type { ReconcileResult } from '../../lib/reconcile/controller';
import { rfc3339 } from '../../lib/time';
import { QueueController } from '../queue-controller';
import type { ControllerContext } from '../context';
import { approvalFor, signingFor } from './policy';

/**
 * The CSR approver and signer (kube-controller-manager's csrapproving and csrsigning): approves
 * kubelet client and serving requests by policy.ts, and signs approved requests of the
 * kubelet and kube-apiserver-client signers with the cluster CA (when it has the CA).
 */
export class CsrController extends QueueController {
  private readonly informer;

  constructor(ctx: ControllerContext, private readonly opts: { approve: boolean; ca?: KeyPairPem }) {
    super('csr', ctx, 2);
    this.informer = ctx.informers.for<CertificateSigningRequest>(CERTIFICATE_SIGNING_REQUESTS);
    this.enqueueOwnKey(this.informer, ['add', 'update']);
  }

  private async info(csr: CertificateSigningRequest): Promise<CsrInfo | undefined> {
    const pem = Buffer.from(csr.spec?.request ?? '', 'base64').toString('utf8');
    try {
      const info = parseCsrPem(pem);
      return (await verifyCsrSignature(pem)) ? info : undefined;
    } catch {
      return undefined;
    }
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const csr = this.informer.get(key);
    if (!csr?.metadata?.name) return;
    const name = csr.metadata.name;
    const now = new Date(this.ctx.now());
    const info = await this.info(csr);
    if (this.opts.approve) {
      const a = approvalFor(csr, info);
      if (a) {
        const cond: CertificateSigningRequestCondition = { type: 'Approved', status: 'True', reason: a.reason, message: a.message, lastUpdateTime: rfc3339(now), lastTransitionTime: rfc3339(now) };
        await this.put(name, 'approval', { ...csr, status: { ...csr.status, conditions: [...(csr.status?.conditions ?? []), cond] } });
        this.ctx.logger.info({ csr: name, signer: csr.spec?.signerName, requestor: csr.spec?.username }, 'certificate signing request approved');
        return; // the update comes back through the informer and is signed then
      }
    }
    if (!this.opts.ca) return;
    const d = signingFor(csr, info, now);
    if (d.action === 'none') return;
    if (d.action === 'fail') {
      const cond: CertificateSigningRequestCondition = { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: d.message, lastUpdateTime: rfc3339(now), lastTransitionTime: rfc3339(now) };
      await this.put(name, 'status', { ...csr, status: { ...csr.status, conditions: [...(csr.status?.conditions ?? []), cond] } });
      this.ctx.logger.warn({ csr: name, signer: csr.spec?.signerName, reason: d.message }, 'certificate signing request failed validation');
      return;
    }
    const pem = Buffer.from(csr.spec?.request ?? '', 'base64').toString('utf8');
    const cert = await signCsr(this.opts.ca, pem, { usages: d.usages, notAfter: d.notAfter, now });
    await this.put(name, 'status', { ...csr, status: { ...csr.status, certificate: Buffer.from(cert).toString('base64') } });
    this.ctx.logger.info({ csr: name, signer: csr.spec?.signerName, notAfter: d.notAfter.toISOString() }, 'certificate signed');
  }

  /** PUT of a subresource; a conflict means the cache is behind: the informer's update requeues. */
  private async put(name: string, sub: 'approval' | 'status', body: CertificateSigningRequest): Promise<void> {
    try {
      await this.ctx.client.request('PUT', resourcePath(CERTIFICATE_SIGNING_REQUESTS, { name, subresource: sub }), { body });
    } catch (e) {
      if (e instanceof ApiError && (e.conflict || e.notFound)) return;
      throw e;
    }
  }
}
