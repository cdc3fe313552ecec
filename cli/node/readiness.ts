import type { Node } from 'kubernetes-types/core/v1';
import type { ApiClient } from '../../lib/client';
import { checkHost, realProbes } from '../../lib/preflight';
import { NODES } from '../../lib/resources';
import { waitFor } from './supervise';

/**
 * What `up`, `server` and `agent` check before and after they start their
 * processes: that this host can run a node at all (said in one line, exit 2),
 * then that the apiserver answers and the node is Ready.
 */
export async function refuseUnfitHost(dockerSocket: string | undefined): Promise<boolean> {
  const problem = await checkHost(realProbes, dockerSocket ? { ...process.env, DOCKER_HOST: `unix://${dockerSocket}` } : process.env);
  if (!problem) return false;
  process.stderr.write(`coxswain: cannot start a node on this host: ${problem}\n`);
  process.exitCode = 2;
  return true;
}

export function nodeReady(n: Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function waitApiserverReady(client: ApiClient, deadline: number): Promise<true> {
  return waitFor('the apiserver to be ready', deadline, async () => ((await client.request<string>('GET', '/readyz', { timeoutMs: 2000 })) !== undefined ? true : undefined));
}

export function waitNodeReady(client: ApiClient, nodeName: string, deadline: number): Promise<Node> {
  return waitFor(`node ${nodeName} to be Ready`, deadline, async () => {
    const n = await client.tryGet<Node>(NODES, nodeName);
    return n && nodeReady(n) ? n : undefined;
  });
}
