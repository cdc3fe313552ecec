import type { NodeInfo, Snapshot } from './framework';
import { firstImageSize, ImageCounts } from './image-states';

export type NamespaceLabelsOf = (ns: string) => Record<string, string> | undefined;

const withAffinity = (i: NodeInfo) => i.podsWithAffinity.length > 0;
const withRequiredAntiAffinity = (i: NodeInfo) => i.podsWithRequiredAntiAffinity.length > 0;

/** The nodes of `infos` with pods that have pod (anti-)affinity terms, and those with required anti-affinity, in order. */
export function affinityLists(infos: readonly NodeInfo[]): { affinity: NodeInfo[]; requiredAntiAffinity: NodeInfo[] } {
  return { affinity: infos.filter(withAffinity), requiredAntiAffinity: infos.filter(withRequiredAntiAffinity) };
}

/**
 * A Snapshot over `infos`, everything else worked out from them on first use; `namespaceLabels`
 * looks namespaces up (e.g. in an informer). For tests, benchmarks and the rare attempt whose
 * nodes differ from the cache's (pods nominated by preemption laid over).
 */
export function snapshotOf(infos: NodeInfo[], namespaceLabels: NamespaceLabelsOf = () => undefined): Snapshot {
  let byName: Map<string, NodeInfo> | undefined;
  let lists: ReturnType<typeof affinityLists> | undefined;
  let images: ImageCounts | undefined;
  const imageCounts = () => {
    if (!images) {
      images = new ImageCounts();
      for (const i of infos) images.add(i.node, 1);
    }
    return images;
  };
  return {
    nodes: infos,
    get: (n) => (byName ??= new Map(infos.map((i) => [i.node.metadata?.name ?? '', i] as const))).get(n),
    namespaceLabels,
    havePodsWithAffinity: () => (lists ??= affinityLists(infos)).affinity,
    havePodsWithRequiredAntiAffinity: () => (lists ??= affinityLists(infos)).requiredAntiAffinity,
    image: (name) => imageCounts().summary(name, () => firstImageSize(infos, name)),
  };
}

/** What the node cache keeps between attempts, from which a Snapshot is made without walking the nodes. */
export interface CachedState {
  nodes: NodeInfo[];
  /** Node name → position in `nodes`. */
  index: ReadonlyMap<string, number>;
  affinity: NodeInfo[];
  requiredAntiAffinity: NodeInfo[];
  /** Image counts over `nodes` (kept up to date by the cache: valid until its next snapshot). */
  images: ImageCounts;
}

/** A Snapshot over the node cache's state. */
export function snapshotFrom(c: CachedState, namespaceLabels: NamespaceLabelsOf): Snapshot {
  const { nodes, index, affinity, requiredAntiAffinity, images } = c;
  return {
    nodes,
    get: (n) => {
      const i = index.get(n);
      return i === undefined ? undefined : nodes[i];
    },
    namespaceLabels,
    havePodsWithAffinity: () => affinity,
    havePodsWithRequiredAntiAffinity: () => requiredAntiAffinity,
    image: (name) => images.summary(name, () => firstImageSize(nodes, name)),
  };
}
