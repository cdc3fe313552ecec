import type { Node, Pod } from 'kubernetes-types/core/v1';
import { nodeInfo, withPods, type NodeInfo } from './framework';

const keyOf = (p: Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

/**
 * NodeInfos kept up to date from the informers' events (kube-scheduler's cache), so an
 * attempt does not rebuild every node from every pod: a node's NodeInfo is rebuilt only after
 * the node or one of its pods changed. Assumed pods are laid over at snapshot time.
 */
export class NodeInfoCache {
  private readonly nodes = new Map<string, Node>();
  /** Informer pods bound to each node, by pod key. */
  private readonly pods = new Map<string, Map<string, Pod>>();
  /** Which node each bound informer pod is on. */
  private readonly podNode = new Map<string, string>();
  /** Built NodeInfos; a change drops the node's entry. */
  private readonly built = new Map<string, NodeInfo>();
  /** The last list (without assumed pods), its index by node name, and the nodes changed since. */
  private listed?: NodeInfo[];
  private readonly index = new Map<string, number>();
  private readonly dirty = new Set<string>();

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

  /** A pod added or updated: placed on its node if bound. */
  setPod(p: Pod): void {
    const key = keyOf(p);
    const was = this.podNode.get(key);
    const now = p.spec?.nodeName;
    if (was && was !== now) this.remove(key, was);
    if (!now) return;
    let m = this.pods.get(now);
    if (!m) this.pods.set(now, (m = new Map()));
    m.set(key, p);
    this.podNode.set(key, now);
    this.changed(now);
  }

  deletePod(p: Pod): void {
    const key = keyOf(p);
    const was = this.podNode.get(key);
    if (was) this.remove(key, was);
  }

  private remove(key: string, node: string): void {
    this.pods.get(node)?.delete(key);
    this.podNode.delete(key);
    this.changed(node);
  }

  private info(name: string, node: Node): NodeInfo {
    let i = this.built.get(name);
    if (!i) this.built.set(name, (i = nodeInfo(node, [...(this.pods.get(name)?.values() ?? [])])));
    return i;
  }

  /**
   * Every node's NodeInfo, in the order nodes were added, with `assumed` pods (bound by us,
   * not yet seen bound) counted on their nodes. An assumed pod already seen bound counts once.
   */
  list(assumed: Pod[]): NodeInfo[] {
    const extra = new Map<string, Pod[]>();
    for (const p of assumed) {
      const n = p.spec?.nodeName;
      if (!n || this.podNode.has(keyOf(p))) continue;
      let l = extra.get(n);
      if (!l) extra.set(n, (l = []));
      l.push(p);
    }
    const base = this.current();
    if (extra.size === 0) return base;
    const out = base.slice();
    for (const [name, more] of extra) {
      const i = this.index.get(name);
      if (i !== undefined) out[i] = withPods(out[i], more);
    }
    return out;
  }

  /** Every node's NodeInfo without assumed pods; only changed nodes are rebuilt. The array is shared: do not modify it. */
  private current(): NodeInfo[] {
    if (!this.listed) {
      this.listed = [];
      this.index.clear();
      for (const [name, node] of this.nodes) {
        this.index.set(name, this.listed.length);
        this.listed.push(this.info(name, node));
      }
    } else if (this.dirty.size > 0) {
      this.listed = this.listed.slice();
      for (const name of this.dirty) {
        const i = this.index.get(name);
        const node = this.nodes.get(name);
        if (i !== undefined && node) this.listed[i] = this.info(name, node);
      }
    }
    this.dirty.clear();
    return this.listed;
  }
}
