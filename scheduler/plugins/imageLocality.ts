import type { Pod } from 'kubernetes-types/core/v1';
import type { ImageSummary, ScorePlugin } from '../framework';
import { nodeImages } from '../image-states';
import { MAX_NODE_SCORE } from './normalize';

const MB = 1024 * 1024;
/** Scores start above 23 MB and top out at 1000 MB per container (kube-scheduler's thresholds). */
export const MIN_THRESHOLD = 23 * MB;
export const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** An image name as nodes report it: a reference without tag or digest gets ":latest". */
export function normalizedImageName(name: string): string {
  return name.lastIndexOf(':') <= name.lastIndexOf('/') ? `${name}:latest` : name;
}

/** The score for a summed, spread-scaled image size: 0 at or below 23 MB, 100 at 1000 MB per container. */
export function imageScore(sum: number, containers: number): number {
  const max = MAX_CONTAINER_THRESHOLD * containers;
  if (max <= MIN_THRESHOLD) return 0;
  const clamped = Math.min(Math.max(sum, MIN_THRESHOLD), max);
  return Math.floor((MAX_NODE_SCORE * (clamped - MIN_THRESHOLD)) / (max - MIN_THRESHOLD));
}

/** Per image the pod uses: its size (as first reported) and on how many nodes of the cluster it is. */
type ImageSpread = Map<string, ImageSummary>;
const STATE_KEY = 'PreScoreImageLocality';

function podImages(pod: Pod): string[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => normalizedImageName(c.image ?? ''));
}

/**
 * Kubernetes' ImageLocality: prefers nodes that already have the pod's images (init containers
 * included), from node.status.images. Each image present counts its size times the share of all
 * nodes that have it (so an image everywhere does not pull every pod onto a few nodes); the sum
 * maps linearly onto 0–100 between 23 MB and 1000 MB per container. Weight 1 in the default profile.
 */
export const ImageLocality: ScorePlugin = {
  name: 'ImageLocality',
  weight: 1,
  preScore(pod, _nodes, snapshot, state) {
    const images = podImages(pod);
    // The snapshot keeps per image how many nodes have it (no walk over every node's images).
    const spread: ImageSpread = new Map();
    for (const name of new Set(images)) {
      const s = snapshot.image(name);
      if (s) spread.set(name, s);
    }
    state.write(STATE_KEY, { images, spread, total: snapshot.nodes.length });
  },
  score(pod, { node }, state) {
    const st = state.read<{ images: string[]; spread: ImageSpread; total: number }>(STATE_KEY);
    // Without PreScore the spread is unknown, and no node having the images means 0 everywhere.
    if (!st || st.spread.size === 0) return 0;
    const images = st.images;
    const have = nodeImages(node);
    let sum = 0;
    for (const name of images) {
      if (!have.has(name)) continue;
      const s = st.spread.get(name);
      if (s) sum += Math.trunc(s.size * (s.nodes / st.total));
    }
    return imageScore(sum, images.length);
  },
};
