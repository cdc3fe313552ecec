/**
 * Does the running scheduler enforce a rule? Two pods, the second of which the
 * rule forbids where its nodeSelector sends it: the rule is enforced when the
 * second pod is reported unschedulable (PodScheduled False), not when it is bound.
 */
import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError, type ApiClient, type KubeObject } from '../../lib/client';
import { NAMESPACES, PODS } from '../../lib/resources';
import { sleep } from './report';

export type ProbeOutcome = 'enforced' | 'not enforced' | 'unknown';
const NS = 'bench-probe';

function probePod(name: string, labels: Record<string, string>, spec: Partial<NonNullable<Pod['spec']>>): Pod & KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }], ...spec } };
}

async function outcome(client: ApiClient, name: string, timeoutMs: number): Promise<'bound' | 'unschedulable' | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const p = await client.tryGet<Pod & KubeObject>(PODS, name, NS);
    if (p?.spec?.nodeName) return 'bound';
    if (p?.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')) return 'unschedulable';
    await sleep(200);
  }
  return undefined;
}

async function probe(client: ApiClient, first: Pod & KubeObject, second: Pod & KubeObject): Promise<ProbeOutcome> {
  await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).catch((err: unknown) => {
    if (!(err instanceof ApiError && err.code === 409)) throw err;
  });
  try {
    await client.create(PODS, first, NS);
    if ((await outcome(client, first.metadata!.name!, 30_000)) !== 'bound') return 'unknown';
    await client.create(PODS, second, NS);
    const o = await outcome(client, second.metadata!.name!, 30_000);
    return o === 'unschedulable' ? 'enforced' : o === 'bound' ? 'not enforced' : 'unknown';
  } finally {
    for (const p of [first, second]) await client.delete(PODS, p.metadata!.name!, { namespace: NS, gracePeriodSeconds: 0, ignoreNotFound: true }).catch(() => undefined);
  }
}

/** Required pod anti-affinity on kubernetes.io/hostname, both pods sent to `node`. */
export function probeAntiAffinity(client: ApiClient, node: string): Promise<ProbeOutcome> {
  const nodeSelector = { 'kubernetes.io/hostname': node };
  return probe(
    client,
    probePod('anti-a', { probe: 'anti' }, { nodeSelector }),
    probePod('anti-b', { probe: 'anti-b' }, {
      nodeSelector,
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { probe: 'anti' } }, topologyKey: 'kubernetes.io/hostname' }] } },
    }),
  );
}

/** Zone spread with maxSkew 1 (DoNotSchedule, every zone counted): a second pod sent to the first one's zone would make the skew 2. */
export function probeSpread(client: ApiClient, zoneLabel: string, zone: string): Promise<ProbeOutcome> {
  const nodeSelector = { [zoneLabel]: zone };
  return probe(
    client,
    probePod('spread-a', { probe: 'spread' }, { nodeSelector }),
    probePod('spread-b', { probe: 'spread' }, {
      nodeSelector,
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: zoneLabel, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { probe: 'spread' } }, nodeAffinityPolicy: 'Ignore' }],
    }),
  );
}
