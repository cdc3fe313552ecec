import { Command } from 'commander';
import path from 'node:path';
import { coxswainHome } from '../lib/kubeconfig';
import { defaultNodeName, writeClusterCredentials } from './up';

/**
 * `coxswain init`: creates the cluster CA, component certificates and
 * kubeconfigs in a data folder without starting anything (docker-compose and
 * multi-host installs run it once; `coxswain up` does it itself). Idempotent.
 */
export async function main(argv: string[]): Promise<void> {
  const cmd = new Command('coxswain init')
    .description('Create the cluster PKI and kubeconfigs in the data folder (idempotent).')
    .option('--home <dir>', 'data folder (COXSWAIN_HOME)', coxswainHome())
    .option('--server <url>', 'apiserver URL for the admin, kubelet and proxy kubeconfigs', 'https://127.0.0.1:6443')
    .option('--component-server <url>', 'apiserver URL for the scheduler and controllers kubeconfigs (default: --server)')
    .option('--apiserver-host <name...>', 'extra DNS names for the apiserver certificate')
    .option('--node-name <name>', 'the node whose kubelet certificate to issue', defaultNodeName())
    .option('--service-cidr <cidr>', 'Service ClusterIP range', '10.96.0.0/12')
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const f = cmd.opts();
  const home = path.resolve(f.home);
  await writeClusterCredentials({ home, server: f.server, componentServer: f.componentServer, nodeName: f.nodeName, serviceCidr: f.serviceCidr, apiserverHosts: f.apiserverHost });
  process.stdout.write(`coxswain: credentials ready in ${home} (admin kubeconfig: ${path.join(home, 'kubeconfig')})\n`);
}
