import { readFileSync } from 'node:fs';
import { writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

/** Everything a client needs to reach and authenticate to an apiserver. */
export interface ClientConfig {
  server: string;
  /** PEM bundle of CAs that sign the server's certificate. */
  ca?: string;
  /** PEM client certificate and key (client-certificate authentication). */
  cert?: string;
  key?: string;
  /** Bearer token. */
  token?: string;
  insecureSkipTLSVerify?: boolean;
  /** The context's default namespace. */
  namespace?: string;
}

/** The data folder of a Coxswain installation: `COXSWAIN_HOME`, else `~/.coxswain`. */
export function coxswainHome(): string {
  return process.env.COXSWAIN_HOME ?? path.join(os.homedir(), '.coxswain');
}

/** The kubeconfig clients use by default: `KUBECONFIG` (first entry), else `<home>/kubeconfig`. */
export function defaultKubeconfigPath(): string {
  const env = process.env.KUBECONFIG?.split(path.delimiter).find((p) => p.length > 0);
  return env ?? path.join(coxswainHome(), 'kubeconfig');
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

function unb64(s: string | undefined): string | undefined {
  return s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');
}

/** Renders a kubeconfig with one cluster, user and context, certificates inlined. */
export function renderKubeconfig(opts: { name: string; server: string; ca: string; cert?: string; key?: string; token?: string; user?: string }): string {
  const user = opts.user ?? opts.name;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: opts.name, cluster: { server: opts.server, 'certificate-authority-data': b64(opts.ca) } }],
    users: [
      {
        name: user,
        user: {
          ...(opts.cert ? { 'client-certificate-data': b64(opts.cert) } : {}),
          ...(opts.key ? { 'client-key-data': b64(opts.key) } : {}),
          ...(opts.token ? { token: opts.token } : {}),
        },
      },
    ],
    contexts: [{ name: opts.name, context: { cluster: opts.name, user } }],
    'current-context': opts.name,
  };
  return YAML.stringify(doc);
}

export async function writeKubeconfig(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode: 0o600 });
}

interface KubeconfigDoc {
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
  contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  'current-context'?: string;
}

/**
 * Reads a kubeconfig (inline `*-data` fields or file references, relative to the
 * kubeconfig's folder) and returns the current context's client configuration.
 * Throws an Error naming the file and the missing piece when it is incomplete.
 */
export function loadKubeconfig(file: string = defaultKubeconfigPath(), contextName?: string): ClientConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read kubeconfig ${file}: ${(err as Error).message}`);
  }
  const doc = YAML.parse(text) as KubeconfigDoc | null;
  if (!doc || typeof doc !== 'object') throw new Error(`kubeconfig ${file}: not a kubeconfig document`);
  const ctxName = contextName ?? doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName) ?? (ctxName === undefined ? doc.contexts?.[0] : undefined);
  if (!ctx) throw new Error(`kubeconfig ${file}: context ${JSON.stringify(ctxName)} not found`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`kubeconfig ${file}: cluster ${JSON.stringify(ctx.context.cluster)} has no server`);
  const user = doc.users?.find((u) => u.name === ctx.context.user)?.user ?? {};
  const dir = path.dirname(file);
  const fileOrData = (data: unknown, ref: unknown): string | undefined => {
    if (typeof data === 'string') return unb64(data);
    if (typeof ref === 'string') return readFileSync(path.resolve(dir, ref), 'utf8');
    return undefined;
  };
  return {
    server: cluster.server,
    ca: fileOrData(cluster['certificate-authority-data'], cluster['certificate-authority']),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    cert: fileOrData(user['client-certificate-data'], user['client-certificate']),
    key: fileOrData(user['client-key-data'], user['client-key']),
    token: typeof user.token === 'string' ? user.token : undefined,
    namespace: ctx.context.namespace,
  };
}
