import type { Node } from 'kubernetes-types/core/v1';
import type { ImageSummary, NodeInfo } from './framework';

/** Image name → size in bytes, from node.status.images, memoized per Node object (informer objects are replaced, not mutated). */
const imagesByNode = new WeakMap<Node, Map<string, number>>();
export function nodeImages(node: Node): Map<string, number> {
  let m = imagesByNode.get(node);
  if (!m) {
    m = new Map();
    for (const img of node.status?.images ?? []) for (const n of img.names ?? []) if (!m.has(n)) m.set(n, img.sizeBytes ?? 0);
    imagesByNode.set(node, m);
  }
  return m;
}

/** The size of `name` on the first of `infos` that reports it (0 when none does). */
export function firstImageSize(infos: readonly NodeInfo[], name: string): number {
  for (const i of infos) {
    const size = nodeImages(i.node).get(name);
    if (size !== undefined) return size;
  }
  return 0;
}

/**
 * Per image name, how many nodes report it and with which sizes (upstream's image states, whose
 * NumNodes ImageLocality reads), kept as nodes come, change and go, so scoring a pod does not
 * walk every node's images.
 */
export class ImageCounts {
  private readonly m = new Map<string, { nodes: number; sizes: Map<number, number> }>();

  /** Counts (sign 1) or stops counting (sign -1) the images of one node. */
  add(node: Node, sign: 1 | -1): void {
    for (const [name, size] of nodeImages(node)) {
      let e = this.m.get(name);
      if (!e) this.m.set(name, (e = { nodes: 0, sizes: new Map() }));
      e.nodes += sign;
      const n = (e.sizes.get(size) ?? 0) + sign;
      if (n > 0) e.sizes.set(size, n);
      else e.sizes.delete(size);
      if (e.nodes <= 0) this.m.delete(name);
    }
  }

  /**
   * The image's size and node count, or undefined when no node has it. When nodes report
   * different sizes, `firstSize` gives the one on the first node listing it (a walk over the nodes).
   */
  summary(name: string, firstSize: () => number): ImageSummary | undefined {
    const e = this.m.get(name);
    if (!e) return undefined;
    const size = e.sizes.size === 1 ? e.sizes.keys().next().value! : firstSize();
    return { size, nodes: e.nodes };
  }

  /** Image names counted (for tests). */
  get size(): number {
    return this.m.size;
  }
}
