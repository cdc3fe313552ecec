import { podRequests, unschedulable, type FilterPlugin } from '../framework';

/**
 * The pod's requests must fit in allocatable minus what is already requested
 * on the node, and the node must have room for one more pod. Reports every
 * insufficient resource, as kube-scheduler does.
 */
export const NodeResourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  filter(pod, info) {
    const reasons: string[] = [];
    if (info.pods.length + 1 > info.allocatable.pods) reasons.push('Too many pods');
    const r = podRequests(pod);
    if (r.milliCPU > 0 && r.milliCPU > info.allocatable.milliCPU - info.requested.milliCPU) reasons.push('Insufficient cpu');
    if (r.memory > 0 && r.memory > info.allocatable.memory - info.requested.memory) reasons.push('Insufficient memory');
    return reasons.length ? unschedulable(...reasons) : undefined;
  },
};
