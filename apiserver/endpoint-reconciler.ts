import type { Endpoints } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { Logger } from '../lib/log';
import { rfc3339Micro } from '../lib/time';
import { ApiError } from './errors';
import type { Registry } from './registry';
import type { ResourceStorage } from './resources';

/**
 * The `kubernetes` Service's Endpoints list every live apiserver, so clients
 * that balance over them (agents' local balancers, pods through the ClusterIP)
 * stop using one that is gone. Each apiserver holds a Lease in kube-system
 * (`coxswain-apiserver-<ip>`, label {@link LEASE_LABEL}) that it renews every
 * `renewMs`; the Endpoints are the addresses of the leases not expired, written
 * by whichever apiserver notices a difference (as Kubernetes' lease endpoint
 * reconciler does with its master leases). On shutdown an apiserver removes its
 * lease and its address at once.
 */
export const LEASE_LABEL = 'coxswain.io/apiserver-endpoint';
const NS = 'kube-system';

interface LeaseLike {
  metadata?: { labels?: Record<string, string>; resourceVersion?: string };
  spec?: { renewTime?: string; leaseDurationSeconds?: number };
}

/** The addresses of the unexpired apiserver leases at `nowMs`, always with `self`, sorted. Pure. */
export function liveAddresses(leases: readonly LeaseLike[], nowMs: number, self: string): string[] {
  const ips = new Set([self]);
  for (const l of leases) {
    const ip = l.metadata?.labels?.[LEASE_LABEL];
    const renewed = Date.parse(l.spec?.renewTime ?? '');
    if (!ip || !Number.isFinite(renewed)) continue;
    if (renewed + (l.spec?.leaseDurationSeconds ?? 0) * 1000 > nowMs) ips.add(ip);
  }
  return [...ips].sort();
}

/** The Endpoints' addresses, sorted. */
function currentAddresses(ep: Endpoints | undefined): string[] {
  return (ep?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
}

export class EndpointReconciler {
  private timer?: NodeJS.Timeout;
  private readonly leaseName: string;

  constructor(
    private readonly storage: ResourceStorage,
    private readonly registry: Registry,
    private readonly log: Logger,
    private readonly o: { address: string; port: number; renewMs?: number; leaseSeconds?: number; now?: () => number },
  ) {
    this.leaseName = `coxswain-apiserver-${o.address.replace(/[.:]/g, '-')}`;
  }

  private defs() {
    return { lease: this.registry.lookup('coordination.k8s.io', 'v1', 'leases')!, ep: this.registry.lookup('', 'v1', 'endpoints')! };
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** Renews this apiserver's lease, then brings the Endpoints in line with the live leases. */
  async reconcile(): Promise<void> {
    const { lease, ep } = this.defs();
    const spec = { holderIdentity: this.o.address, leaseDurationSeconds: this.o.leaseSeconds ?? 15, renewTime: rfc3339Micro(this.now()) };
    const cur = await this.storage.read(lease, NS, this.leaseName);
    if (cur) await this.storage.update(lease, NS, this.leaseName, { ...cur.obj, spec: { ...(cur.obj as LeaseLike).spec, ...spec } });
    else await this.storage.create(lease, NS, { metadata: { name: this.leaseName, labels: { [LEASE_LABEL]: this.o.address } }, spec });
    const leases = (await this.storage.list(lease, NS)).items.map((i) => i.obj as LeaseLike);
    await this.writeEndpoints(liveAddresses(leases, this.now(), this.o.address));
  }

  private async writeEndpoints(want: string[]): Promise<void> {
    await this.writeSlice(want);
    const { ep } = this.defs();
    const cur = await this.storage.read(ep, 'default', 'kubernetes');
    if (!cur) return; // bootstrap creates it
    const have = currentAddresses(cur.obj as Endpoints);
    if (have.join(',') === want.join(',')) return;
    const subsets = want.length ? [{ addresses: want.map((ip) => ({ ip })), ports: [{ name: 'https', port: this.o.port, protocol: 'TCP' }] }] : [];
    await this.storage.update(ep, 'default', 'kubernetes', { ...cur.obj, subsets });
    this.log.info({ from: have, to: want }, 'kubernetes endpoints updated');
  }

  /** The `kubernetes` EndpointSlice (what proxies read) gets the same addresses, each ready. */
  private async writeSlice(want: string[]): Promise<void> {
    const es = this.registry.lookup('discovery.k8s.io', 'v1', 'endpointslices');
    const cur = es && (await this.storage.read(es, 'default', 'kubernetes'));
    if (!es || !cur) return; // bootstrap creates it
    const slice = cur.obj as EndpointSlice;
    const have = (slice.endpoints ?? []).map((e) => e.addresses?.[0]).sort();
    if (have.join(',') === want.join(',')) return;
    const endpoints = want.map((ip) => ({ addresses: [ip], conditions: { ready: true } }));
    await this.storage.update(es, 'default', 'kubernetes', { ...slice, endpoints, ports: [{ name: 'https', port: this.o.port, protocol: 'TCP' }] });
  }

  start(): void {
    const tick = () => {
      this.reconcile()
        .catch((err) => {
          if (!(err instanceof ApiError && err.reason === 'Conflict')) this.log.warn({ err: String(err) }, 'apiserver endpoint reconcile failed');
        })
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.o.renewMs ?? 5_000);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops renewing and takes this apiserver out of the Endpoints (best effort). */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { lease, ep } = this.defs();
    try {
      await this.storage.delete(lease, NS, this.leaseName);
      const cur = await this.storage.read(ep, 'default', 'kubernetes');
      const rest = currentAddresses(cur?.obj as Endpoints | undefined).filter((ip) => ip !== this.o.address);
      if (cur && rest.length) await this.writeEndpoints(rest);
    } catch (err) {
      this.log.warn({ err: String(err) }, 'could not remove this apiserver from the kubernetes endpoints');
    }
  }
}
