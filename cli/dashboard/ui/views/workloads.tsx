/** Deployments, StatefulSets, DaemonSets, Jobs and CronJobs, each with its pods, status and actions. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ActionButton, Status, Table } from '../components';
import { age, matches, podStatus } from '../format';
import type { KubeObject, PodView } from '../types';
import { collectionIn, useNamespace } from '../namespace';
import { useList, type ListState } from '../watch';
import { podLink } from './overview';

interface Kind {
  title: string;
  id: string;
  group: string;
  resource: string;
  scalable?: boolean;
  restartable?: boolean;
  headers: string[];
  cells: (o: KubeObject) => ComponentChildren[];
}

const num = (v: unknown) => (typeof v === 'number' ? v : 0);
const spec = (o: KubeObject) => o.spec ?? {};
const status = (o: KubeObject) => o.status ?? {};

const KINDS: Kind[] = [
  {
    title: 'Deployments', id: 'deployments', group: 'apps', resource: 'deployments', scalable: true, restartable: true,
    headers: ['READY', 'UP-TO-DATE', 'AVAILABLE'],
    cells: (o) => [`${num(status(o).readyReplicas)}/${num(spec(o).replicas)}`, num(status(o).updatedReplicas), num(status(o).availableReplicas)],
  },
  {
    title: 'StatefulSets', id: 'statefulsets', group: 'apps', resource: 'statefulsets', scalable: true, restartable: true,
    headers: ['READY'],
    cells: (o) => [`${num(status(o).readyReplicas)}/${num(spec(o).replicas)}`],
  },
  {
    title: 'DaemonSets', id: 'daemonsets', group: 'apps', resource: 'daemonsets', restartable: true,
    headers: ['DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE'],
    cells: (o) => [num(status(o).desiredNumberScheduled), num(status(o).currentNumberScheduled), num(status(o).numberReady), num(status(o).updatedNumberScheduled)],
  },
  {
    title: 'Jobs', id: 'jobs', group: 'batch', resource: 'jobs',
    headers: ['STATUS', 'COMPLETIONS'],
    cells: (o) => {
      const conds = (status(o).conditions as { type: string; status: string }[] | undefined) ?? [];
      const done = conds.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
      return [done ? done.type : spec(o).suspend ? 'Suspended' : 'Running', `${num(status(o).succeeded)}/${spec(o).completions ?? 1}`];
    },
  },
  {
    title: 'CronJobs', id: 'cronjobs', group: 'batch', resource: 'cronjobs',
    headers: ['SCHEDULE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE'],
    cells: (o) => [String(spec(o).schedule ?? ''), spec(o).suspend ? 'True' : 'False', ((status(o).active as unknown[]) ?? []).length, age(status(o).lastScheduleTime as string | undefined)],
  },
];

const objectPath = (k: Kind, o: KubeObject) => `/apis/${k.group}/v1/namespaces/${o.metadata.namespace}/${k.resource}/${o.metadata.name}`;

function ScaleControl(props: { kind: Kind; o: KubeObject }) {
  const current = num(spec(props.o).replicas);
  const [value, setValue] = useState<string | undefined>(undefined);
  const id = `${props.o.metadata.namespace}-${props.o.metadata.name}`;
  return (
    <span class="scale">
      <label>
        replicas{' '}
        <input
          type="number"
          min={0}
          name={`replicas-${id}`}
          value={value ?? String(current)}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />
      </label>
      <ActionButton
        access={{ verb: 'patch', group: props.kind.group, resource: props.kind.resource, subresource: 'scale', namespace: props.o.metadata.namespace }}
        label="Scale"
        name={`scale-${id}`}
        run={async () => {
          await api('PATCH', `${objectPath(props.kind, props.o)}/scale`, { spec: { replicas: Number(value ?? current) } }, 'application/merge-patch+json');
          setValue(undefined);
        }}
      />
    </span>
  );
}

function Actions(props: { kind: Kind; o: KubeObject }) {
  const { kind, o } = props;
  const id = `${o.metadata.namespace}-${o.metadata.name}`;
  return (
    <span class="actions">
      {kind.scalable ? <ScaleControl kind={kind} o={o} /> : null}
      {kind.restartable ? (
        <ActionButton
          access={{ verb: 'patch', group: kind.group, resource: kind.resource, namespace: o.metadata.namespace }}
          label="Restart"
          name={`restart-${id}`}
          run={() =>
            api('PATCH', objectPath(kind, o), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } }, 'application/merge-patch+json')
          }
        />
      ) : null}
      <ActionButton
        access={{ verb: 'delete', group: kind.group, resource: kind.resource, namespace: o.metadata.namespace }}
        label="Delete"
        name={`delete-${id}`}
        danger
        confirm={`Delete ${kind.resource} ${o.metadata.namespace}/${o.metadata.name}?`}
        run={() => api('DELETE', `${objectPath(kind, o)}?propagationPolicy=Background`)}
      />
    </span>
  );
}

/** The pods of a workload: by its selector's matchLabels (CronJobs: through their Jobs). */
function podsOf(kind: Kind, o: KubeObject, pods: PodView[], jobs: KubeObject[]): PodView[] {
  if (kind.resource === 'cronjobs') {
    const mine = new Set(jobs.filter((j) => j.metadata.ownerReferences?.some((r) => r.uid === o.metadata.uid)).map((j) => j.metadata.uid));
    return pods.filter((p) => p.metadata.ownerReferences?.some((r) => mine.has(r.uid)));
  }
  const sel = (spec(o).selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
  return pods.filter((p) => p.metadata.namespace === o.metadata.namespace && matches(sel, p.metadata.labels));
}

function Section(props: { kind: Kind; pods: ListState<PodView>; jobs: KubeObject[] }) {
  const { kind } = props;
  const list = useList<KubeObject>(collectionIn(`/apis/${kind.group}/v1`, kind.resource, useNamespace()));
  return (
    <section>
      <h2>{kind.title}</h2>
      <Status {...list} />
      <Table
        id={kind.id}
        headers={['NAMESPACE', 'NAME', ...kind.headers, 'AGE', 'PODS', '']}
        rows={list.items.map((o) => ({
          key: `${o.metadata.namespace}/${o.metadata.name}`,
          cells: [
            o.metadata.namespace,
            o.metadata.name,
            ...kind.cells(o),
            age(o.metadata.creationTimestamp),
            <ul class="pods">
              {podsOf(kind, o, props.pods.items, props.jobs).map((p) => (
                <li key={p.metadata.uid}>
                  {podLink(p)} <span class="muted">{podStatus(p)}</span>
                </li>
              ))}
            </ul>,
            <Actions kind={kind} o={o} />,
          ],
        }))}
        empty={`no ${kind.resource}`}
      />
    </section>
  );
}

export function Workloads() {
  const ns = useNamespace();
  const pods = useList<PodView>(collectionIn('/api/v1', 'pods', ns));
  const jobs = useList<KubeObject>(collectionIn('/apis/batch/v1', 'jobs', ns));
  return (
    <main>
      <h1>Workloads</h1>
      {KINDS.map((k) => (
        <Section key={k.id} kind={k} pods={pods} jobs={jobs.items} />
      ))}
    </main>
  );
}
