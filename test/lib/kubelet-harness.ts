/**
 * Shared pieces of the tests that drive the kubelet's pod manager directly against
 * real Docker (no apiserver): a status sink standing in for the apiserver, pod
 * fixtures, and waiting on a pod's reported status.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import type { DockerRuntime } from '../../kubelet/docker-runtime';
import type { Logger } from '../../lib/log';
import type { PodManager } from '../../kubelet/pod-manager';
import type { PodStatusSink } from '../../kubelet/sync-pod';
import { BridgePodNetwork } from '../../kubelet/pod-network';
import { LABEL_NODE, LABEL_POD_UID } from '../../kubelet/runtime';
import { pickFreeSubnet, unmountUnder } from './docker';

/** Records reported statuses; a pod deleted through it disappears, as the apiserver + informer would make it. */
export class FakeSink implements PodStatusSink {
  statuses = new Map<string, PodStatus>();
  deleted = new Set<string>();
  manager?: PodManager;
  setStatus(pod: Pod, status: PodStatus): void {
    this.statuses.set(pod.metadata!.uid!, status);
  }
  async deletePod(pod: Pod): Promise<void> {
    this.deleted.add(pod.metadata!.uid!);
    setImmediate(() => void this.manager?.removePod(pod));
  }
}

/**
 * Gives `manager` a pod network as the kubelet makes one from its podCIDR (a free subnet here:
 * a bridge named after `network`), and marks its pod sources ready. Remove it with `net.remove()`.
 */
export async function attachPodNetwork(o: { docker: Docker; runtime: DockerRuntime; manager: PodManager; network: string; log: Logger }): Promise<BridgePodNetwork> {
  const subnet = await pickFreeSubnet(o.docker);
  const net = new BridgePodNetwork(o.network, o.log);
  await o.runtime.releaseSubnet(subnet);
  await net.ensure(subnet);
  await o.manager.setNetwork(net);
  o.manager.markSourcesReady();
  return net;
}

/** Fixture and wait helpers bound to one node, sink and (late-bound) pod manager. */
export function podHelpers(o: { node: string; docker: Docker; sink: FakeSink; manager: () => PodManager }) {
  return {
    /** A pod bound to the node, with a fresh uid and a 2 s grace period unless the spec says otherwise. */
    makePod(name: string, spec: Partial<NonNullable<Pod['spec']>> & Pick<NonNullable<Pod['spec']>, 'containers'>, meta: Partial<NonNullable<Pod['metadata']>> = {}): Pod {
      return {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default', uid: randomUUID(), creationTimestamp: new Date().toISOString(), ...meta },
        spec: { nodeName: o.node, terminationGracePeriodSeconds: 2, ...spec },
      };
    },
    /** Syncs the pod until `pred` holds on its reported status, or fails after `ms`. */
    async syncUntil(pod: Pod, pred: (s: PodStatus) => boolean, what: string, ms = 30_000): Promise<PodStatus> {
      const uid = pod.metadata!.uid!;
      const deadline = Date.now() + ms;
      for (;;) {
        await o.manager().sync(uid);
        const s = o.sink.statuses.get(uid);
        if (s && pred(s)) return s;
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last status: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    /** Every container (running or not) of the pod on this node. */
    podContainers(uid: string): Promise<Docker.ContainerInfo[]> {
      return o.docker.listContainers({ all: true, filters: { label: [`${LABEL_NODE}=${o.node}`, `${LABEL_POD_UID}=${uid}`] } });
    },
  };
}

/**
 * Unmounts and removes the tmpfs directories of secret and projected volumes
 * (`/run/coxswain/kubelet/<uid>`) of pods a test left behind (e.g. pods stopped
 * by a node shutdown, never deleted): the kubelet removes them only with the pod.
 */
export async function removePodTmpfs(uids: Iterable<string>, root = '/run/coxswain/kubelet'): Promise<void> {
  const { rm } = await import('node:fs/promises');
  for (const uid of new Set(uids)) {
    const dir = `${root}/${uid}`;
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
