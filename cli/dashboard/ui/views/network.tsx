/** Services and Ingresses of every namespace. */
import { Status, Table } from '../components';
import { age } from '../format';
import type { KubeObject } from '../types';
import { collectionIn, useNamespace } from '../namespace';
import { useList } from '../watch';

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  externalIPs?: string[];
  ports?: { name?: string; port: number; protocol?: string; nodePort?: number; targetPort?: number | string }[];
  selector?: Record<string, string>;
}

interface IngressSpec {
  ingressClassName?: string;
  rules?: { host?: string; http?: { paths?: { path?: string; backend?: { service?: { name: string; port?: { number?: number; name?: string } } } }[] } }[];
  tls?: unknown[];
}

export function Network() {
  const ns = useNamespace();
  const services = useList<KubeObject>(collectionIn('/api/v1', 'services', ns));
  const ingresses = useList<KubeObject>(collectionIn('/apis/networking.k8s.io/v1', 'ingresses', ns));
  return (
    <main>
      <h1>Services and Ingresses</h1>
      <section>
        <h2>Services</h2>
        <Status {...services} />
        <Table
          id="services"
          headers={['NAMESPACE', 'NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'SELECTOR', 'AGE']}
          rows={services.items.map((s) => {
            const sp = (s.spec ?? {}) as ServiceSpec;
            const lb = ((s.status?.loadBalancer as { ingress?: { ip?: string; hostname?: string }[] } | undefined)?.ingress ?? []).map((i) => i.ip ?? i.hostname);
            return {
              key: `${s.metadata.namespace}/${s.metadata.name}`,
              cells: [
                s.metadata.namespace,
                s.metadata.name,
                sp.type ?? 'ClusterIP',
                sp.clusterIP ?? '',
                [...lb, ...(sp.externalIPs ?? [])].join(',') || '<none>',
                (sp.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(','),
                Object.entries(sp.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>',
                age(s.metadata.creationTimestamp),
              ],
            };
          })}
          empty="no services"
        />
      </section>
      <section>
        <h2>Ingresses</h2>
        <Status {...ingresses} />
        <Table
          id="ingresses"
          headers={['NAMESPACE', 'NAME', 'CLASS', 'HOSTS', 'RULES', 'ADDRESS', 'AGE']}
          rows={ingresses.items.map((i) => {
            const sp = (i.spec ?? {}) as IngressSpec;
            const addr = ((i.status?.loadBalancer as { ingress?: { ip?: string; hostname?: string }[] } | undefined)?.ingress ?? []).map((x) => x.ip ?? x.hostname);
            const rules = (sp.rules ?? []).flatMap((r) =>
              (r.http?.paths ?? []).map((p) => `${r.host ?? '*'}${p.path ?? '/'} → ${p.backend?.service?.name ?? '?'}:${p.backend?.service?.port?.number ?? p.backend?.service?.port?.name ?? ''}`),
            );
            return {
              key: `${i.metadata.namespace}/${i.metadata.name}`,
              cells: [
                i.metadata.namespace,
                i.metadata.name,
                sp.ingressClassName ?? '<none>',
                (sp.rules ?? []).map((r) => r.host ?? '*').join(',') || '*',
                <ul class="pods">{rules.map((r) => <li key={r}>{r}</li>)}</ul>,
                addr.join(','),
                age(i.metadata.creationTimestamp),
              ],
            };
          })}
          empty="no ingresses"
        />
      </section>
    </main>
  );
}
