/** `/`: the nodes, the pods of every namespace, and the latest events, all live. */
import { api } from '../api';
import { ActionButton, Status, Table } from '../components';
import { age, nodeRoles, nodeStatus, podReady, podRestarts, podStatus } from '../format';
import type { NodeView, PodView } from '../types';
import { collectionIn, scopeText, useNamespace } from '../namespace';
import { useList } from '../watch';
import { EventsTable } from './events';

export function podLink(p: PodView) {
  return <a href={`#/pods/${p.metadata.namespace}/${p.metadata.name}`}>{p.metadata.name}</a>;
}

export function deletePodButton(p: PodView) {
  return (
    <ActionButton
      access={{ verb: 'delete', group: '', resource: 'pods', namespace: p.metadata.namespace }}
      label="Delete"
      name={`delete-pod-${p.metadata.name}`}
      danger
      confirm={`Delete pod ${p.metadata.namespace}/${p.metadata.name}?`}
      run={() => api('DELETE', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`)}
    />
  );
}

export function NodesTable(props: { nodes: NodeView[] }) {
  return (
    <Table
      id="nodes"
      headers={['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']}
      rows={props.nodes.map((n) => ({
        key: n.metadata.name,
        cells: [<a href={`#/nodes/${n.metadata.name}`}>{n.metadata.name}</a>, nodeStatus(n), nodeRoles(n), age(n.metadata.creationTimestamp), n.status?.nodeInfo?.kubeletVersion ?? ''],
      }))}
      empty="no nodes"
    />
  );
}

export function PodsTable(props: { pods: PodView[]; id?: string; actions?: boolean }) {
  return (
    <Table
      id={props.id}
      headers={['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'NODE', ...(props.actions ? [''] : [])]}
      rows={props.pods.map((p) => ({
        key: `${p.metadata.namespace}/${p.metadata.name}`,
        cells: [
          p.metadata.namespace,
          podLink(p),
          podReady(p),
          podStatus(p),
          podRestarts(p),
          age(p.metadata.creationTimestamp),
          p.spec.nodeName ?? '<none>',
          ...(props.actions ? [deletePodButton(p)] : []),
        ],
      }))}
      empty="no pods"
    />
  );
}

export function Overview() {
  const nodes = useList<NodeView>('/api/v1/nodes');
  const ns = useNamespace();
  const pods = useList<PodView>(collectionIn('/api/v1', 'pods', ns));
  const running = pods.items.filter((p) => p.status?.phase === 'Running').length;
  return (
    <main>
      <h1>Overview</h1>
      <p id="summary">
        {nodes.items.length} nodes ({nodes.items.filter((n) => nodeStatus(n).startsWith('Ready')).length} ready), {pods.items.length} pods ({running} running)
      </p>
      <section>
        <h2>Nodes</h2>
        <Status {...nodes} />
        <NodesTable nodes={nodes.items} />
      </section>
      <section>
        <h2>Pods ({scopeText(ns)})</h2>
        <Status {...pods} />
        <PodsTable id="pods" pods={pods.items} actions />
      </section>
      <section>
        <h2>Latest events</h2>
        <EventsTable limit={15} />
      </section>
    </main>
  );
}
