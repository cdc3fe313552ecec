import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApiClient } from '../lib/client';
import { fetchClusterCA, fetchServerBootstrap, JoinError } from '../lib/join';
import { createJoinToken } from '../lib/bootstrap-tokens';
import { parseJoinToken } from '../lib/join-token';
import { renderKubeconfig, writeKubeconfig } from '../lib/kubeconfig';
import { ensureClusterPki, pkiPaths, type ClusterPki, type KeyPairPem } from '../lib/pki';
import { addStoreMember } from '../lib/store-join';
import { parseServerOptions, type ServerOptions } from './node/options';
import { kubeconfigPath, serverPlan, storeUrls, type StoreStart } from './node/plan';
import { refuseUnfitHost, waitApiserverReady, waitNodeReady } from './node/readiness';
import { superviseUntilSignal } from './node/supervise';
import { firstServiceIP } from './up';

/**
 * `coxswain server`: a control-plane host. The first one (no --server) creates
 * the cluster: its CA and certificates, the admin kubeconfig and a join token.
 * Another (--server URL --token T) checks the cluster's CA against the token,
 * fetches the cluster's keys with it, adds a store member through a Raft
 * membership change and runs its own apiserver, scheduler and controllers.
 * Both run a kubelet and a proxy unless --disable-agent.
 */
export async function main(argv: string[]): Promise<void> {
  const o = parseServerOptions(argv);
  const t0 = Date.now();
  if (!o.disableAgent && (await refuseUnfitHost(o.dockerSocket))) return;
  await mkdir(path.join(o.home, 'logs'), { recursive: true });
  let store: StoreStart;
  let pki: ClusterPki;
  try {
    ({ store, pki } = await prepare(o));
  } catch (err) {
    if (!(err instanceof JoinError)) throw err;
    process.stderr.write(`coxswain: cannot join: ${err.message}\n`);
    process.exitCode = 1;
    return;
  }
  const server = `https://${o.nodeIP}:${o.apiserverPort}`;
  await writeKubeconfigs(o.home, pki, server);

  const plan = serverPlan(o, store, process.execPath, path.join(__dirname, 'coxswain.js'));
  process.stdout.write(`coxswain: starting ${plan.length} processes (data in ${o.home}, logs in ${path.join(o.home, 'logs')})\n`);
  const { stopping } = superviseUntilSignal(plan, { home: o.home });

  const deadline = Date.now() + o.readyTimeoutSec * 1000;
  const client = new ApiClient({ server, ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key });
  let token: string | undefined;
  try {
    await waitApiserverReady(client, deadline);
    if (!o.server) token = await ensureJoinToken(o.home, client, pki.ca.cert);
    if (!o.disableAgent) await waitNodeReady(client, o.nodeName, deadline);
  } catch (err) {
    if (stopping()) return;
    process.stderr.write(`coxswain: ${(err as Error).message}; see the logs in ${path.join(o.home, 'logs')}. The server keeps running; Ctrl-C stops it.\n`);
    return;
  } finally {
    client.close();
  }
  if (stopping()) return;
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  const node = o.disableAgent ? 'no node (--disable-agent)' : `node ${o.nodeName} Ready`;
  process.stdout.write(`coxswain: server ready in ${secs}s: apiserver ${server}, ${node}; export KUBECONFIG=${path.join(o.home, 'kubeconfig')}\n`);
  if (token) {
    // the token itself only on a terminal: under systemd stdout is the journal, and logs carry no secrets
    const shown = process.stdout.isTTY ? token : `"$(cat ${path.join(o.home, 'token')})"`;
    process.stdout.write(`coxswain: join more hosts with --server ${server} --token ${shown}\n`);
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** What this server's store starts with, saved at the first start: a restart must not join again. */
interface ServerState {
  store: StoreStart;
}

/**
 * Makes the PKI and decides how the store starts: a new one-member cluster, a
 * join (a member added through --server), or, on a restart, what was decided
 * the first time (saved in <home>/server.json).
 */
async function prepare(o: ServerOptions): Promise<{ store: StoreStart; pki: ClusterPki }> {
  const stateFile = path.join(o.home, 'server.json');
  const urls = storeUrls(o);
  const ensure = () =>
    ensureClusterPki(o.home, { nodeName: o.nodeName, apiserverIPs: [firstServiceIP(o.serviceCidr), o.nodeIP], apiserverHosts: o.tlsSans, nodeIPs: [o.nodeIP], storeTls: true });
  if (await exists(stateFile)) {
    const saved = JSON.parse(await readFile(stateFile, 'utf8')) as ServerState;
    return { store: saved.store, pki: await ensure() };
  }
  let store: StoreStart;
  let pki: ClusterPki;
  if (!o.server) {
    pki = await ensure();
    store = { initialCluster: `${o.nodeName}=${urls.peer}`, state: 'new', endpoints: [urls.client] };
  } else {
    const token = parseJoinToken(o.token!);
    const ca = await fetchClusterCA(o.server, token);
    const boot = await fetchServerBootstrap(o.server, ca, token);
    const dir = pkiPaths(o.home).dir;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (!boot.files['store-ca.crt'] || !boot.files['store-ca.key']) throw new JoinError(`${o.server} did not send the store's CA: is it a server of a cluster made by \`coxswain server\`?`);
    for (const [name, content] of Object.entries(boot.files)) {
      if (name.includes('/') || name.startsWith('.')) throw new JoinError(`the server sent a file with an unexpected name ${JSON.stringify(name)}`);
      await writeFile(path.join(dir, name), content, { mode: name.endsWith('.key') ? 0o600 : 0o644 });
    }
    pki = await ensure();
    const tls = { ca: pki.storeCa!.cert, cert: pki.storeClient!.cert, key: pki.storeClient!.key };
    process.stdout.write(`coxswain: adding this host's store member (${urls.peer}) to the cluster...\n`);
    const added = await addStoreMember({
      endpoints: boot.storeEndpoints, tls, name: o.nodeName, peerURL: urls.peer, deadlineMs: Date.now() + o.readyTimeoutSec * 1000,
      log: (msg) => process.stdout.write(`coxswain: ${msg}\n`),
    });
    store = { initialCluster: added.initialCluster, state: 'existing', endpoints: [urls.client, ...boot.storeEndpoints.filter((e) => e !== urls.client)] };
  }
  await writeFile(stateFile, JSON.stringify({ store } satisfies ServerState, null, 2) + '\n', { mode: 0o600 });
  return { store, pki };
}

/** The admin kubeconfig (<home>/kubeconfig) and the components', all pointing at this server's apiserver. */
async function writeKubeconfigs(home: string, pki: ClusterPki, server: string): Promise<void> {
  const kc = (pair: KeyPairPem, user: string) => renderKubeconfig({ name: 'coxswain', server, ca: pki.ca.cert, cert: pair.cert, key: pair.key, user });
  await writeKubeconfig(path.join(home, 'kubeconfig'), kc(pki.admin, 'admin'));
  for (const [name, pair] of [['scheduler', pki.scheduler], ['controllers', pki.controllers], ['kubelet', pki.kubelet], ['proxy', pki.proxy]] as const) {
    await writeKubeconfig(kubeconfigPath(home, name), kc(pair, name));
  }
}

/** The first server's join token, made once (role server, no expiry) and kept in <home>/token (0600). */
async function ensureJoinToken(home: string, client: ApiClient, caPem: string): Promise<string> {
  const file = path.join(home, 'token');
  if (await exists(file)) return (await readFile(file, 'utf8')).trim();
  const token = await createJoinToken(client, caPem, { role: 'server', description: 'created with the cluster by coxswain server' });
  await writeFile(file, token + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return token;
}
