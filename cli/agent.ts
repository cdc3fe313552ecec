import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Endpoints, Node } from 'kubernetes-types/core/v1';
import { ApiClient } from '../lib/client';
import { fetchClusterCA, JoinError, requestNodeCertificates } from '../lib/join';
import { parseJoinToken } from '../lib/join-token';
import { renderKubeconfig, writeKubeconfig } from '../lib/kubeconfig';
import { checkHost, realProbes } from '../lib/preflight';
import { NODES } from '../lib/resources';
import { createLogger } from '../lib/log';
import { ApiserverBalancer } from './node/apiserver-balancer';
import { parseAgentOptions, type AgentOptions } from './node/options';
import { agentPaths, agentPlan } from './node/plan';
import { superviseUntilSignal, waitFor } from './node/supervise';
import { nodeReady } from './up';

const REFRESH_MS = 10_000;

/**
 * `coxswain agent --server URL --token T`: a worker host. At its first start it
 * checks the cluster's CA against the token, then gets the node's certificates
 * through CertificateSigningRequests authenticated by the token (kubelet TLS
 * bootstrapping); later starts reuse them. The kubelet and the proxy reach the
 * apiservers through a balancer on 127.0.0.1 that follows the `kubernetes`
 * Endpoints, so the host keeps working when the server it joined through is gone.
 */
export async function main(argv: string[]): Promise<void> {
  const o = parseAgentOptions(argv);
  const t0 = Date.now();
  const problem = await checkHost(realProbes, o.dockerSocket ? { ...process.env, DOCKER_HOST: `unix://${o.dockerSocket}` } : process.env);
  if (problem) {
    process.stderr.write(`coxswain: cannot start a node on this host: ${problem}\n`);
    process.exitCode = 2;
    return;
  }
  await mkdir(path.join(o.home, 'logs'), { recursive: true });
  try {
    await joinOnce(o);
  } catch (err) {
    if (!(err instanceof JoinError)) throw err;
    process.stderr.write(`coxswain: cannot join: ${err.message}\n`);
    process.exitCode = 1;
    return;
  }
  const p = agentPaths(o.home);
  const [ca, cert, key] = await Promise.all([readFile(p.ca, 'utf8'), readFile(p.client.cert, 'utf8'), readFile(p.client.key, 'utf8')]);
  const local = `https://127.0.0.1:${o.balancerPort}`;
  await writeKubeconfig(p.kubeconfig, renderKubeconfig({ name: 'coxswain', server: local, ca, cert, key, user: `system:node:${o.nodeName}` }));

  const log = createLogger('agent');
  const balancer = new ApiserverBalancer({ host: '127.0.0.1', port: o.balancerPort }, await knownApiservers(o), log);
  await balancer.start();
  const client = new ApiClient({ server: local, ca, cert, key });
  const refresh = setInterval(() => void refreshApiservers(client, balancer, p.apiservers, log), REFRESH_MS);

  const plan = agentPlan(o, process.execPath, path.join(__dirname, 'coxswain.js'));
  process.stdout.write(`coxswain: starting ${plan.length} processes (data in ${o.home}, logs in ${path.join(o.home, 'logs')})\n`);
  const { stopping } = superviseUntilSignal(plan, {
    home: o.home,
    beforeStop: async () => {
      clearInterval(refresh);
      client.close();
    },
  });
  try {
    await waitFor(`node ${o.nodeName} to be Ready`, Date.now() + o.readyTimeoutSec * 1000, async () => {
      const n = await client.tryGet<Node>(NODES, o.nodeName);
      return n && nodeReady(n) ? n : undefined;
    });
  } catch (err) {
    if (stopping()) return;
    process.stderr.write(`coxswain: ${(err as Error).message}; see the logs in ${path.join(o.home, 'logs')}. The agent keeps running; Ctrl-C stops it.\n`);
    return;
  }
  if (stopping()) return;
  void refreshApiservers(client, balancer, p.apiservers, log);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  process.stdout.write(`coxswain: agent ready in ${secs}s: node ${o.nodeName} Ready, apiservers ${balancer.addresses().join(', ')}\n`);
}

/** The first start joins (CA pinned by the token, certificates by CSR); later starts find the files. */
async function joinOnce(o: AgentOptions): Promise<void> {
  const p = agentPaths(o.home);
  if (await stat(p.client.cert).then(() => true, () => false)) return;
  const token = parseJoinToken(o.token!);
  const ca = await fetchClusterCA(o.server!, token);
  process.stdout.write(`coxswain: the cluster CA at ${o.server} matches the token; requesting this node's certificates...\n`);
  const certs = await requestNodeCertificates({ server: o.server!, ca, token, nodeName: o.nodeName, nodeIPs: [o.nodeIP] });
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  await writeFile(p.ca, ca, { mode: 0o644 });
  await writeFile(p.serving.key, certs.serving.key, { mode: 0o600 });
  await writeFile(p.serving.cert, certs.serving.cert, { mode: 0o644 });
  await writeFile(p.client.key, certs.client.key, { mode: 0o600 });
  // the client certificate last: its presence means the join is complete
  await writeFile(p.client.cert, certs.client.cert, { mode: 0o644 });
}

/** host:port of the apiservers last seen (saved), else the one joined through. */
async function knownApiservers(o: AgentOptions): Promise<string[]> {
  const saved = await readFile(agentPaths(o.home).apiservers, 'utf8').then((t) => JSON.parse(t) as string[], () => []);
  return saved.length ? saved : [new URL(o.server!).host];
}

async function refreshApiservers(client: ApiClient, balancer: ApiserverBalancer, file: string, log: ReturnType<typeof createLogger>): Promise<void> {
  try {
    const ep = await client.request<Endpoints>('GET', '/api/v1/namespaces/default/endpoints/kubernetes', { timeoutMs: 5_000 });
    const list = (ep?.subsets ?? []).flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports ?? []).filter((p) => p.name === 'https' || s.ports!.length === 1).map((p) => `${a.ip}:${p.port}`)));
    if (!list.length) return;
    const before = balancer.addresses().join(',');
    balancer.setUpstreams(list);
    if (balancer.addresses().join(',') !== before) await writeFile(file, JSON.stringify(list) + '\n');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not refresh the apiserver list');
  }
}
