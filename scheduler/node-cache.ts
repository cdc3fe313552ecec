import type { Node, Pod } from 'kubernetes-types/core/v1';
import { AssumeCache } from './cache';
import { nodeInfo, withPods, type NodeInfo, type Snapshot } from './framework';
import { ImageCounts } from './image-states';
import { affinityLists, snapshotFrom, type NamespaceLabelsOf } from './snapshot';

const keyOf = (p: Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

/** Adds `pod` under `key` to the per-node map `m`. */
function put(m: Map<string, Map<string, Pod>>, node: string, key: string, pod: Pod): void {
  let pods = m.get(node);
  if (!pods) m.set(node, (pods = new Map()));
  pods.set(key, pod);
}

/**
 * kube-scheduler's cache: NodeInfos kept up to date from the informers' events and the
 * scheduler's own assumptions, so an attempt does not rebuild every node from every pod: a
 * node's NodeInfo is rebuilt only after the node, one of its pods or an assumption on it
 * changed. An assumed pod (bound by us, not yet seen bound) counts on its node at once; the
 * informer's bound copy replaces it; `forget` (failed binding) and expiry (`ttlMs` after it was
 * assumed, checked by `expire`) take it away. Alongside: the index by node name, the nodes
 * with pods that have pod (anti-)affinity, and per image the nodes having it, so `snapshot` is
 * made without walking the nodes.
 */
export class NodeInfoCache {
  private readonly nodes = new Map<string, Node>();
  /** Informer pods bound to each node, by pod key. */
  private readonly pods = new Map<string, Map<string, Pod>>();
  /** Which node each bound informer pod is on. */
  private readonly podNode = new Map<string, string>();
  /** Assumed pods (bound copies) counted on each node, by pod key: those not seen bound by the informer. */
  private readonly assumedOn = new Map<string, Map<string, Pod>>();
  private readonly assumptions: AssumeCache;
  /** Built NodeInfos; a change drops the node's entry. */
  private readonly built = new Map<string, NodeInfo>();
  /** The last list, its index by node name (a new Map when nodes come or go), and the nodes changed since. */
  private listed?: NodeInfo[];
  private index = new Map<string, number>();
  private readonly dirty = new Set<string>();
  /** Nodes of `listed` with pods that have pod (anti-)affinity; undefined when to be worked out again. */
  private lists?: ReturnType<typeof affinityLists>;
  /** Image counts over the nodes as last listed, and which Node object of each name they count. */
  private readonly images = new ImageCounts();
  private readonly imagesCounted = new Map<string, Node>();

  constructor(ttlMs = 30_000) {
    this.assumptions = new AssumeCache(ttlMs);
  }

  setNode(n: Node): void {
    const name = n.metadata?.name ?? '';
    if (!this.nodes.has(name)) this.listed = undefined;
    this.nodes.set(name, n);
    this.changed(name);
  }

  deleteNode(n: Node): void {
    const name = n.metadata?.name ?? '';
    this.nodes.delete(name);
    this.changed(name);
    this.listed = undefined;
  }

  private changed(name: string): void {
    this.built.delete(name);
    this.dirty.add(name);
  }

  /** A pod added or updated: placed on its node if bound; a bound copy ends its assumption. */
  setPod(p: Pod): void {
    this.unassume(this.assumptions.confirm(p));
    const key = keyOf(p);
    const was = this.podNode.get(key);
    const now = p.spec?.nodeName;
    if (was && was !== now) this.remove(key, was);
    if (!now) return;
    put(this.pods, now, key, p);
    this.podNode.set(key, now);
    this.changed(now);
  }

  deletePod(p: Pod): void {
    this.unassume(this.assumptions.confirm(p, true));
    const key = keyOf(p);
    const was = this.podNode.get(key);
    if (was) this.remove(key, was);
  }

  private remove(key: string, node: string): void {
    this.pods.get(node)?.delete(key);
    this.podNode.delete(key);
    this.changed(node);
  }

  /**
   * Counts `pod` on `nodeName` from now on (kube-scheduler's AssumePod), until the informer shows
   * it bound or gone, `forget`, or `expire` after the TTL. A pod the informer already shows
   * bound is not counted twice.
   */
  assume(pod: Pod, nodeName: string, nowMs: number): void {
    this.unassume(this.assumptions.forget(pod));
    const bound = this.assumptions.assume(pod, nodeName, nowMs);
    const key = keyOf(pod);
    if (this.podNode.has(key)) return;
    put(this.assumedOn, nodeName, key, bound);
    this.changed(nodeName);
  }

  /** Ends the pod's assumption (its binding failed). */
  forget(pod: Pod): void {
    this.unassume(this.assumptions.forget(pod));
  }

  /** Ends the assumptions older than the TTL at `nowMs`. */
  expire(nowMs: number): void {
    for (const p of this.assumptions.expire(nowMs)) this.unassume(p);
  }

  isAssumed(pod: Pod): boolean {
    return this.assumptions.isAssumed(pod);
  }

  /** Assumptions in force. */
  get assumedCount(): number {
    return this.assumptions.size;
  }

  /** Stops counting a dropped assumption's bound copy on its node. */
  private unassume(bound: Pod | undefined): void {
    const node = bound?.spec?.nodeName;
    if (!bound || !node) return;
    const m = this.assumedOn.get(node);
    const key = keyOf(bound);
    if (m?.get(key) !== bound) return;
    m.delete(key);
    if (m.size === 0) this.assumedOn.delete(node);
    this.changed(node);
  }

  private info(name: string, node: Node): NodeInfo {
    let i = this.built.get(name);
    if (!i) {
      const pods = [...(this.pods.get(name)?.values() ?? [])];
      const assumed = this.assumedOn.get(name);
      if (assumed) pods.push(...assumed.values());
      this.built.set(name, (i = nodeInfo(node, pods)));
    }
    return i;
  }

  /**
   * Every node's NodeInfo, in the order nodes were added, assumed pods included, and `extra`
   * pods (bound to a node, not counted yet) laid over their nodes. A pod the informer shows
   * bound, or one assumed here, counts once.
   */
  list(extra: Pod[] = []): NodeInfo[] {
    const more = new Map<string, Pod[]>();
    for (const p of extra) {
      const n = p.spec?.nodeName;
      if (!n || this.podNode.has(keyOf(p)) || this.assumedOn.get(n)?.has(keyOf(p))) continue;
      let l = more.get(n);
      if (!l) more.set(n, (l = []));
      l.push(p);
    }
    const base = this.current();
    if (more.size === 0) return base;
    const out = base.slice();
    for (const [name, pods] of more) {
      const i = this.index.get(name);
      if (i !== undefined) out[i] = withPods(out[i], pods);
    }
    return out;
  }

  /**
   * A Snapshot of every node (assumed pods included) with its index by name, the nodes having
   * pods with pod (anti-)affinity and the image counts, kept here rather than worked out per
   * attempt. Valid until the cache's next snapshot or list.
   */
  snapshot(namespaceLabels: NamespaceLabelsOf = () => undefined): Snapshot {
    const nodes = this.current();
    this.lists ??= affinityLists(nodes);
    return snapshotFrom({ nodes, index: this.index, affinity: this.lists.affinity, requiredAntiAffinity: this.lists.requiredAntiAffinity, images: this.images }, namespaceLabels);
  }

  /** Every node's NodeInfo; only changed nodes are rebuilt. The array is shared: do not modify it. */
  private current(): NodeInfo[] {
    for (const name of this.dirty) this.countImages(name);
    if (!this.listed) {
      this.listed = [];
      this.index = new Map();
      this.lists = undefined;
      for (const [name, node] of this.nodes) {
        this.index.set(name, this.listed.length);
        this.listed.push(this.info(name, node));
      }
    } else if (this.dirty.size > 0) {
      this.listed = this.listed.slice();
      for (const name of this.dirty) {
        const i = this.index.get(name);
        const node = this.nodes.get(name);
        if (i === undefined || !node) continue;
        const was = this.listed[i];
        const now = (this.listed[i] = this.info(name, node));
        // The affinity lists hold NodeInfo objects: any change to a node in them redoes them.
        if (was.podsWithAffinity.length > 0 || now.podsWithAffinity.length > 0) this.lists = undefined;
      }
    }
    this.dirty.clear();
    return this.listed;
  }

  /** Brings the image counts up to date with node `name` (added, changed or deleted). */
  private countImages(name: string): void {
    const was = this.imagesCounted.get(name);
    const now = this.nodes.get(name);
    if (was === now) return;
    if (was) this.images.add(was, -1);
    if (now) {
      this.images.add(now, 1);
      this.imagesCounted.set(name, now);
    } else this.imagesCounted.delete(name);
  }
}
