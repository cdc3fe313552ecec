import type { Node, NodeStatus, Pod } from 'kubernetes-types/core/v1';
import { ApiError, type ApiClient } from '../../lib/client';
import { realClock, type Clock } from '../../lib/clock';
import { Informer, objectKey, stripManagedFields } from '../../lib/informer';
import type { Logger } from '../../lib/log';
import { Controller } from '../../lib/reconcile/controller';
import { LEASES, NODES, PODS } from '../../lib/resources';
import { NodeLease, NODE_LEASE_NAMESPACE } from '../node-lease';
import { Limiter } from '../../lib/limiter';
import { HOLLOW_ANNOTATION, hollowNode, hollowNodeIP, hollowNodeLabels, hollowNodeName, hollowNodeStatus } from './node';
import type { HollowOptions } from './options';
import { fallbackPodCIDR, finishedStatus, podAction, PodIPs, runningStatus } from './pod-status';

interface HollowNodeState {
  name: string;
  index: number;
  ip: string;
  uid?: string;
  registered: boolean;
  lease: NodeLease;
  status?: NodeStatus;
  podCIDR?: string;
  ips?: PodIPs;
  leaseDue: number;
  statusDue: number;
  busy: boolean;
}

/** How often the node loop looks for due lease renewals and status writes. */
const TICK_MS = 100;

/**
 * Many hollow kubelets in one process (kubemark's idea): registers the Nodes,
 * renews their Leases and writes their status on schedules spread over the
 * period, and plays kubelet for every pod bound to them through one pod watch
 * (`spec.nodeName!=`): such a pod is reported Running and Ready with a
 * made-up IP at once; a pod being deleted is reported finished and deleted
 * with grace 0. Node writes go through one limiter and pod writes through a
 * fixed number of workers, so the API sees at most `2 × concurrency` writes of
 * this process at a time.
 */
export class HollowNodes {
  private readonly nodes = new Map<string, HollowNodeState>();
  private readonly informer: Informer<Pod>;
  private readonly pods: Controller;
  private readonly nodeWrites: Limiter;
  /** The IP given to each pod (by uid) and the node it came from, until the pod is gone. */
  private readonly podIPs = new Map<string, { node: string; ip: string }>();
  private timer?: unknown;
  private stopped = false;
  private readonly clock: Clock;

  constructor(
    private readonly client: ApiClient,
    private readonly opts: HollowOptions,
    private readonly log: Logger,
    private readonly env: { arch: string; clock?: Clock } = { arch: 'amd64' },
  ) {
    this.clock = env.clock ?? realClock;
    const now = this.clock.now();
    for (let i = 0; i < opts.count; i++) {
      const name = hollowNodeName(opts.prefix, i);
      const state: HollowNodeState = {
        name,
        index: i,
        ip: hollowNodeIP(name),
        registered: false,
        lease: new NodeLease(client, name, log, { durationSeconds: opts.leaseDurationSeconds, nodeUid: () => state.uid, now: () => this.clock.now() }),
        // Spread over the period so 1,000 nodes do not renew in one burst.
        leaseDue: now + Math.floor((i * opts.leaseRenewMs) / opts.count),
        statusDue: now + Math.floor((i * opts.nodeStatusMs) / opts.count),
        busy: false,
      };
      this.nodes.set(name, state);
    }
    this.nodeWrites = new Limiter(opts.concurrency);
    this.informer = new Informer<Pod>(client, PODS, { fieldSelector: 'spec.nodeName!=', logger: log, transform: stripManagedFields });
    this.pods = new Controller({ name: 'hollow-pods', workers: opts.concurrency, reconcile: (key) => this.syncPod(key), logger: log, clock: this.clock });
    const onPod = (pod: Pod) => {
      if (this.nodes.has(pod.spec?.nodeName ?? '')) this.pods.enqueue(objectKey(pod));
    };
    this.informer.on({ add: onPod, update: (_old, pod) => onPod(pod), delete: (pod) => this.forgetPod(pod) });
  }

  /** Registers every node (bounded concurrency), then starts leases, status writes and the pod watch. Resolves once all nodes are registered. */
  async start(): Promise<void> {
    const started = this.clock.now();
    await Promise.all([...this.nodes.values()].map((n) => this.nodeWrites.run(() => this.register(n)).catch((err: Error) => this.log.warn({ node: n.name, err: err.message }, 'node registration failed; retrying'))));
    const registered = [...this.nodes.values()].filter((n) => n.registered).length;
    this.log.info({ nodes: registered, of: this.opts.count, ms: this.clock.now() - started }, 'hollow nodes registered');
    this.tick();
    await this.informer.start();
    // Pods already running when this process starts keep their IPs.
    for (const pod of this.informer.list()) this.notePodIP(pod);
    this.pods.start();
  }

  /** Stops everything; with `deleteNodes`, deletes the Nodes and their Leases. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    await this.pods.stop();
    await this.informer.stop();
    if (!this.opts.deleteNodes) return;
    await Promise.all(
      [...this.nodes.values()].map((n) =>
        this.nodeWrites.run(async () => {
          await this.client.delete(NODES, n.name, { ignoreNotFound: true });
          await this.client.delete(LEASES, n.name, { namespace: NODE_LEASE_NAMESPACE, ignoreNotFound: true });
        }).catch((err: Error) => this.log.warn({ node: n.name, err: err.message }, 'cannot delete node')),
      ),
    );
    this.log.info({ nodes: this.nodes.size }, 'hollow nodes deleted');
  }

  /** Names of the nodes registered so far. */
  registeredNodes(): string[] {
    return [...this.nodes.values()].filter((n) => n.registered).map((n) => n.name);
  }

  private async register(n: HollowNodeState): Promise<void> {
    let node: Node;
    try {
      node = await this.client.create<Node & Record<string, unknown>>(NODES, hollowNode(n.name, n.index, this.opts, this.env.arch, this.clock.now()) as Node & Record<string, unknown>);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      // Ours from an earlier run (or a name taken by something else, which we now take over, as a kubelet would).
      node = await this.client.patch<Node & Record<string, unknown>>(NODES, n.name, {
        metadata: { labels: hollowNodeLabels(n.name, n.index, this.opts, this.env.arch), annotations: { [HOLLOW_ANNOTATION]: 'true' } },
        spec: { taints: this.opts.taints.length > 0 ? this.opts.taints : null },
      });
      node = await this.client.patch<Node & Record<string, unknown>>(NODES, n.name, { status: hollowNodeStatus(n.name, this.opts, this.env.arch, this.clock.now(), node.status) }, { subresource: 'status' });
    }
    this.noteNode(n, node);
    n.registered = true;
    await n.lease.renew();
    // The next renewal counts from this one, as a kubelet's: registrations are spread out by the
    // write limiter, so renewals stay spread (not all due at the first tick after start-up).
    n.leaseDue = this.clock.now() + this.opts.leaseRenewMs;
  }

  private noteNode(n: HollowNodeState, node: Node): void {
    n.uid = node.metadata?.uid ?? n.uid;
    n.status = node.status ?? n.status;
    n.podCIDR = node.spec?.podCIDR ?? node.spec?.podCIDRs?.[0] ?? n.podCIDR;
  }

  /** The node loop: starts due lease renewals and status writes (one at a time per node), then runs again in TICK_MS. */
  private tick(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    for (const n of this.nodes.values()) {
      if (n.busy) continue;
      if (!n.registered) {
        if (n.statusDue <= now) this.nodeTask(n, () => this.register(n), 'node registration failed; retrying');
      } else if (n.leaseDue <= now) {
        this.nodeTask(n, () => n.lease.renew(), 'node lease renewal failed');
      } else if (n.statusDue <= now) {
        this.nodeTask(n, () => this.writeStatus(n), 'node status write failed');
      }
    }
    this.timer = this.clock.setTimeout(() => this.tick(), TICK_MS);
  }

  private nodeTask(n: HollowNodeState, task: () => Promise<void>, failure: string): void {
    n.busy = true;
    const started = this.clock.now();
    const isLease = n.registered && n.leaseDue <= started;
    void this.nodeWrites
      .run(task)
      .catch((err: Error) => {
        this.log.warn({ node: n.name, err: err.message }, failure);
        if (err instanceof ApiError && err.notFound && !isLease) n.registered = false;
      })
      .finally(() => {
        n.busy = false;
        // A renewal counts from when it started, as the kubelet's does; a failed one is retried at the next period too.
        if (isLease) n.leaseDue = started + this.opts.leaseRenewMs;
        else n.statusDue = started + this.opts.nodeStatusMs;
      });
  }

  private async writeStatus(n: HollowNodeState): Promise<void> {
    const status = hollowNodeStatus(n.name, this.opts, this.env.arch, this.clock.now(), n.status);
    const node = await this.client.patch<Node & Record<string, unknown>>(NODES, n.name, { status }, { subresource: 'status' });
    this.noteNode(n, node);
  }

  private ipsOf(n: HollowNodeState): PodIPs {
    n.ips ??= new PodIPs(n.podCIDR ?? fallbackPodCIDR(n.index));
    return n.ips;
  }

  private notePodIP(pod: Pod): void {
    const uid = pod.metadata?.uid;
    const n = this.nodes.get(pod.spec?.nodeName ?? '');
    const ip = pod.status?.podIP;
    if (!uid || !n || !ip || pod.spec?.hostNetwork || this.podIPs.has(uid)) return;
    if (this.ipsOf(n).claim(ip)) this.podIPs.set(uid, { node: n.name, ip });
  }

  private forgetPod(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const given = this.podIPs.get(uid);
    if (!given) return;
    this.podIPs.delete(uid);
    this.nodes.get(given.node)?.ips?.release(given.ip);
  }

  /** The pod's IP: the one given before, the one it reports (a restart), or a new one. */
  private podIPFor(pod: Pod, n: HollowNodeState): string {
    if (pod.spec?.hostNetwork) return n.ip;
    const uid = pod.metadata!.uid!;
    this.notePodIP(pod);
    const given = this.podIPs.get(uid);
    if (given) return given.ip;
    const ip = this.ipsOf(n).allocate();
    if (!ip) throw new Error(`node ${n.name} has no pod IP left`);
    this.podIPs.set(uid, { node: n.name, ip });
    return ip;
  }

  /** One pod, from the cache's copy (level-triggered). */
  private async syncPod(key: string): Promise<void> {
    const pod = this.informer.get(key);
    const n = this.nodes.get(pod?.spec?.nodeName ?? '');
    if (!pod || !n || !pod.metadata?.uid) return;
    const namespace = pod.metadata.namespace;
    const name = pod.metadata.name!;
    const uid = pod.metadata.uid;
    const action = podAction(pod);
    if (action.kind === 'run') {
      const status = runningStatus(pod, this.podIPFor(pod, n), n.ip, this.clock.now());
      await this.client.patch(PODS, name, { metadata: { uid }, status }, { namespace, subresource: 'status' }).catch(ignoreGone);
    } else if (action.kind === 'finish') {
      const phase = pod.status?.phase;
      if (phase !== 'Succeeded' && phase !== 'Failed') await this.client.patch(PODS, name, { metadata: { uid }, status: finishedStatus(pod, this.clock.now()) }, { namespace, subresource: 'status' }).catch(ignoreGone);
      await this.client.delete(PODS, name, { namespace, gracePeriodSeconds: 0, preconditions: { uid } }).catch(ignoreGone);
    }
  }
}

/** The pod is gone, or its name belongs to a newer pod now (uid precondition): nothing left to do. */
function ignoreGone(err: unknown): undefined {
  if (err instanceof ApiError && (err.notFound || err.conflict)) return undefined;
  throw err;
}
