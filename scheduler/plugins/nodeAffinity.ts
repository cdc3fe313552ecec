import { podFitsNodeAffinity } from '../../lib/node-affinity';
import { unresolvable, type FilterPlugin } from '../framework';

/**
 * spec.nodeSelector and the required node affinity (lib/node-affinity.ts),
 * including matchFields on metadata.name, which is how DaemonSet pods name
 * their node.
 */
export const NodeAffinity: FilterPlugin = {
  name: 'NodeAffinity',
  filter(pod, { node }) {
    return podFitsNodeAffinity(pod.spec, node) ? undefined : unresolvable("node(s) didn't match Pod's node affinity/selector");
  },
};
