/** Nodes: conditions, capacity and allocatable, addresses, and usage when the metrics API answers. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { Status, Table } from '../components';
import { age, nodeRoles, nodeStatus, quantity } from '../format';
import type { NodeView, PodView } from '../types';
import { useList } from '../watch';
import { PodsTable } from './overview';

interface NodeMetrics {
  metadata: { name: string };
  usage: { cpu?: string; memory?: string };
}

const cpu = (q: string | undefined) => (Number.isNaN(quantity(q)) ? '' : `${Math.round(quantity(q) * 1000)}m`);
const mem = (q: string | undefined) => (Number.isNaN(quantity(q)) ? '' : `${Math.round(quantity(q) / 1024 ** 2)}Mi`);
const pct = (used: string | undefined, of: string | undefined) => {
  const u = quantity(used);
  const t = quantity(of);
  return Number.isNaN(u) || !t ? '' : ` (${Math.round((u / t) * 100)}%)`;
};

/** Node usage from metrics.k8s.io, polled every 15 s; undefined while the API does not answer. */
function useNodeMetrics(): Map<string, NodeMetrics> | undefined {
  const [m, setM] = useState<Map<string, NodeMetrics> | undefined>(undefined);
  useEffect(() => {
    let live = true;
    const poll = () =>
      api<{ items: NodeMetrics[] }>('GET', '/apis/metrics.k8s.io/v1beta1/nodes')
        .then((l) => live && setM(new Map(l.items.map((i) => [i.metadata.name, i]))))
        .catch(() => live && setM(undefined));
    void poll();
    const t = setInterval(poll, 15_000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, []);
  return m;
}

export function Nodes(props: { name?: string }) {
  const nodes = useList<NodeView>('/api/v1/nodes');
  const metrics = useNodeMetrics();
  const shown = props.name ? nodes.items.filter((n) => n.metadata.name === props.name) : nodes.items;
  return (
    <main>
      <h1>{props.name ? `Node ${props.name}` : 'Nodes'}</h1>
      <Status {...nodes} />
      <Table
        id="node-list"
        headers={['NAME', 'STATUS', 'ROLES', 'AGE', 'CPU', 'MEMORY', 'PODS', ...(metrics ? ['CPU USED', 'MEMORY USED'] : [])]}
        rows={shown.map((n) => {
          const a = n.status?.allocatable ?? {};
          const u = metrics?.get(n.metadata.name)?.usage;
          return {
            key: n.metadata.name,
            cells: [
              <a href={`#/nodes/${n.metadata.name}`}>{n.metadata.name}</a>,
              nodeStatus(n),
              nodeRoles(n),
              age(n.metadata.creationTimestamp),
              a.cpu ?? '',
              a.memory ?? '',
              a.pods ?? '',
              ...(metrics ? [u ? cpu(u.cpu) + pct(u.cpu, a.cpu) : '', u ? mem(u.memory) + pct(u.memory, a.memory) : ''] : []),
            ],
          };
        })}
        empty="no nodes"
      />
      {props.name && shown[0] ? <NodeDetail node={shown[0]} /> : null}
      {!props.name && shown.length <= 20 ? shown.map((n) => <NodeDetail key={n.metadata.name} node={n} brief />) : null}
    </main>
  );
}

function NodeDetail(props: { node: NodeView; brief?: boolean }) {
  const n = props.node;
  const pods = useList<PodView>(props.brief ? undefined : `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${n.metadata.name}`)}`);
  const cap = n.status?.capacity ?? {};
  const alloc = n.status?.allocatable ?? {};
  return (
    <section class="card">
      <h2>{n.metadata.name}</h2>
      <p>
        {(n.status?.addresses ?? []).map((a) => `${a.type} ${a.address}`).join(', ')}
        {n.status?.nodeInfo ? ` · ${n.status.nodeInfo.osImage ?? ''} · ${n.status.nodeInfo.containerRuntimeVersion ?? ''}` : ''}
        {n.spec?.taints?.length ? ` · taints: ${n.spec.taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(', ')}` : ''}
      </p>
      <Table
        caption="Conditions"
        headers={['TYPE', 'STATUS', 'REASON', 'MESSAGE', 'SINCE']}
        rows={(n.status?.conditions ?? []).map((c) => ({ key: c.type, cells: [c.type, c.status, c.reason ?? '', c.message ?? '', age(c.lastTransitionTime)] }))}
      />
      <Table
        caption="Resources"
        headers={['RESOURCE', 'CAPACITY', 'ALLOCATABLE']}
        rows={Object.keys(cap).map((k) => ({ key: k, cells: [k, cap[k], alloc[k] ?? ''] }))}
      />
      {props.brief ? null : (
        <>
          <h3>Pods on this node</h3>
          <PodsTable pods={pods.items} actions />
        </>
      )}
    </section>
  );
}
