import type tls from 'node:tls';
import type { Secret } from 'kubernetes-types/core/v1';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1';
import type { Logger } from 'pino';
import type { KubeObject } from '../../lib/client';
import type { EventType } from '../../lib/events';
import { servedByCoxswain } from '../../lib/ingress-class';
import { SecretContextCache } from './certs';
import { buildRouteTable, ingressKey, type RouteTable } from './routes';
import { buildTlsTable, secretForServerName, type TlsTable } from './tls-hosts';

/** Where Warning events go (lib/events' EventRecorder). */
export interface EventSink {
  event(obj: KubeObject, type: EventType, reason: string, message: string): void;
}

export interface IngressConfigOptions {
  logger: Logger;
  events?: EventSink;
  /** Served for names no valid Secret covers. */
  defaultContext: tls.SecureContext;
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * What the Ingress server serves, fed by informers (Ingresses, IngressClasses,
 * TLS Secrets): the route table and the TLS contexts by server name. Every
 * change marks the tables stale; they are rebuilt once per burst of changes
 * (on the next turn of the event loop, or at the next request if sooner), and
 * each rebuild reports what is new about unusable TLS Secrets (a Warning event
 * on each Ingress naming one, and a log line) and route conflicts (a log line).
 */
export class IngressConfig {
  private readonly ingresses = new Map<string, Ingress>();
  private readonly classes = new Map<string, IngressClass>();
  private readonly secrets = new Map<string, Secret>();
  private readonly contexts = new SecretContextCache();
  private table: RouteTable = buildRouteTable([]).table;
  private tlsTable: TlsTable = buildTlsTable([]);
  private usable = new Map<string, tls.SecureContext>();
  private dirty = false;
  private scheduled = false;
  /** Problems already reported: `ingress|secret|resourceVersion|message`, and conflict lines. */
  private reported = new Set<string>();
  private reportedConflicts = new Set<string>();

  constructor(private readonly opts: IngressConfigOptions) {}

  upsertIngress(i: Ingress): void { this.ingresses.set(keyOf(i), i); this.changed(); }
  deleteIngress(i: Ingress): void { this.ingresses.delete(keyOf(i)); this.changed(); }
  upsertClass(c: IngressClass): void { this.classes.set(c.metadata?.name ?? '', c); this.changed(); }
  deleteClass(c: IngressClass): void { this.classes.delete(c.metadata?.name ?? ''); this.changed(); }
  upsertSecret(s: Secret): void { this.secrets.set(keyOf(s), s); this.changed(); }
  deleteSecret(s: Secret): void { this.secrets.delete(keyOf(s)); this.changed(); }

  private changed(): void {
    this.dirty = true;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.refresh();
    });
  }

  /** Rebuilds the tables now if anything changed. */
  refresh(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const served = [...this.ingresses.values()].filter((i) => servedByCoxswain(i, this.classes.values()));
    const { table, conflicts } = buildRouteTable(served);
    this.table = table;
    const seenConflicts = new Set<string>();
    for (const c of conflicts) {
      const line = `${c.host || '*'}${c.path} ${c.kept} ${c.dropped}`;
      seenConflicts.add(line);
      if (!this.reportedConflicts.has(line)) this.opts.logger.warn({ host: c.host || '*', path: c.path, kept: c.kept, ignored: c.dropped }, 'ingress path claimed twice; the older Ingress wins');
    }
    this.reportedConflicts = seenConflicts;

    this.tlsTable = buildTlsTable(served);
    this.contexts.retain(new Set(this.tlsTable.secrets.keys()));
    const usable = new Map<string, tls.SecureContext>();
    const reported = new Set<string>();
    for (const [key, ref] of this.tlsTable.secrets) {
      const secret = this.secrets.get(key);
      const r = secret ? this.contexts.get(key, secret) : { error: 'not found (or not of type kubernetes.io/tls)' };
      if ('context' in r) {
        usable.set(key, r.context);
        continue;
      }
      for (const ingName of ref.ingresses) {
        const id = `${ingName}|${key}|${secret?.metadata?.resourceVersion ?? ''}|${r.error}`;
        reported.add(id);
        if (this.reported.has(id)) continue;
        const message = `TLS Secret ${key}: ${r.error}; its hosts are served with the default certificate`;
        this.opts.logger.warn({ ingress: ingName, secret: key, err: r.error }, 'ingress TLS secret unusable; using the default certificate');
        const ing = this.ingresses.get(ingName);
        if (ing) this.opts.events?.event({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: ing.metadata ?? {} }, 'Warning', 'InvalidTLSSecret', message);
      }
    }
    this.reported = reported;
    this.usable = usable;
  }

  /** The route table (rebuilt first if stale). */
  routes(): RouteTable {
    if (this.dirty) this.refresh();
    return this.table;
  }

  /** The secure context for a TLS server name: its Secret's when valid, else the default. */
  sni(serverName: string): tls.SecureContext {
    if (this.dirty) this.refresh();
    const ref = secretForServerName(this.tlsTable, serverName);
    return (ref && this.usable.get(ref.secret)) || this.opts.defaultContext;
  }

  /** `namespace/name` of the Ingresses served (for tests and debugging). */
  served(): string[] {
    return [...this.ingresses.values()].filter((i) => servedByCoxswain(i, this.classes.values())).map(ingressKey).sort();
  }
}
