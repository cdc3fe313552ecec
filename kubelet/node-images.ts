import type { ContainerImage } from 'kubernetes-types/core/v1';
import type { RuntimeImage } from './runtime';

/** How many images node.status.images lists, and names per image (the kubelet's defaults). */
export const MAX_NODE_STATUS_IMAGES = 50;
export const MAX_NAMES_PER_IMAGE = 5;

/**
 * node.status.images from the runtime's images, as the kubelet reports them: the largest first,
 * at most `max`, each named by its digests then its repo:tag references (at most 5 names).
 * Images without any name (dangling) are left out: nothing could refer to them.
 */
export function nodeStatusImages(images: readonly RuntimeImage[], max = MAX_NODE_STATUS_IMAGES): ContainerImage[] {
  return images
    .map((i) => ({ names: [...(i.digests ?? []), ...i.tags].slice(0, MAX_NAMES_PER_IMAGE), sizeBytes: i.sizeBytes }))
    .filter((i) => i.names.length > 0)
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, max);
}
