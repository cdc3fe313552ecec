import { Command, Option } from 'commander';
import { ApiClient } from '../lib/client';
import { createJoinToken, deleteJoinToken, type JoinRole, listJoinTokens } from '../lib/bootstrap-tokens';
import { humanDuration, parseDuration } from '../lib/duration';
import { defaultKubeconfigPath, loadKubeconfig } from '../lib/kubeconfig';
import { formatTable } from './coxctl/table';

/**
 * `coxswain token create|list|delete`: join tokens for hosts (lib/bootstrap-tokens.ts), over
 * the API with the admin kubeconfig. The token's CA hash is that of the kubeconfig's CA,
 * which is what the apiserver serves at /cacerts.
 */

function clientFrom(kubeconfig: string): { client: ApiClient; ca: string } {
  const cfg = loadKubeconfig(kubeconfig);
  if (!cfg.ca) throw new Error(`${kubeconfig} names no certificate-authority-data: cannot pin the cluster CA in a token`);
  return { client: new ApiClient(cfg), ca: cfg.ca };
}

/** A TTL or expiry cell: `23h` left, `<forever>`, or `<expired>`. */
export function ttlCell(expiration: string | undefined, now: number): string {
  if (!expiration) return '<forever>';
  const left = Date.parse(expiration) - now;
  return left > 0 ? `${humanDuration(left)} (${expiration})` : `<expired> (${expiration})`;
}

function program(out: (s: string) => void): Command {
  const root = new Command('token').description('join tokens for hosts: K10<CA hash>::<id>.<secret>').exitOverride();
  const kc = () => new Option('--kubeconfig <file>', 'admin kubeconfig').default(defaultKubeconfigPath());
  root.command('create')
    .description('create a join token and print it')
    .addOption(kc())
    .addOption(new Option('--ttl <duration>', 'lifetime (e.g. 30m, 24h); 0: never expires').default('24h'))
    .addOption(new Option('--role <role>', 'agent: joins kubelets; server: may also join control-plane servers').choices(['agent', 'server']).default('agent'))
    .option('--description <text>', 'a note shown by `coxswain token list`')
    .action(async (f: { kubeconfig: string; ttl: string; role: JoinRole; description?: string }) => {
      const ttlMs = f.ttl === '0' ? 0 : parseDuration(f.ttl);
      if (!(ttlMs >= 0)) throw new Error(`--ttl: want a duration such as 24h or 0, got ${JSON.stringify(f.ttl)}`);
      const { client, ca } = clientFrom(f.kubeconfig);
      try { out(`${await createJoinToken(client, ca, { role: f.role, ttlMs, description: f.description })}\n`); } finally { client.close(); }
    });
  root.command('list')
    .description('list join tokens (never their secrets)')
    .addOption(kc())
    .action(async (f: { kubeconfig: string }) => {
      const { client } = clientFrom(f.kubeconfig);
      try {
        const now = Date.now();
        const rows = (await listJoinTokens(client)).map((t) => [t.id, t.role, ttlCell(t.expiration, now), t.description || '<none>']);
        out(rows.length ? formatTable({ headers: ['ID', 'ROLE', 'TTL', 'DESCRIPTION'], rows }) : 'No join tokens.\n');
      } finally { client.close(); }
    });
  root.command('delete')
    .description('delete a join token: hosts can no longer join with it')
    .argument('<id>', 'the token id (6 characters, before the "." in <id>.<secret>)')
    .addOption(kc())
    .action(async (id: string, f: { kubeconfig: string }) => {
      const { client } = clientFrom(f.kubeconfig);
      try {
        if (!(await deleteJoinToken(client, id))) throw new Error(`no join token with id ${JSON.stringify(id)}`);
        out(`token ${id} deleted\n`);
      } finally { client.close(); }
    });
  return root;
}

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  try {
    await program(out).parseAsync(argv, { from: 'user' });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.help' || code === 'commander.version') return;
    if (code?.startsWith('commander.')) throw new Error('token: bad command line (see `coxswain token --help`)');
    throw e;
  }
}
