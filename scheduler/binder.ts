import type { Pod } from 'kubernetes-types/core/v1';
import type { ApiClient } from '../lib/client';
import { PODS, resourcePath } from '../lib/resources';

/** POSTs the pod's Binding to `nodeName` (pods/binding, with the pod's uid as a precondition). */
export async function bindPod(client: ApiClient, pod: Pod, nodeName: string): Promise<void> {
  const { name, namespace, uid } = pod.metadata ?? {};
  await client.request('POST', resourcePath(PODS, { namespace, name, subresource: 'binding' }), {
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, ...(uid ? { uid } : {}) }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
  });
}
