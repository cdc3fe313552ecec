import { existsSync } from 'node:fs';
import { ApiClient } from '../../lib/client';
import { defaultKubeconfigPath, loadKubeconfig } from '../../lib/kubeconfig';
import { Discovery } from './discovery';
import { CliError } from './errors';

export interface IO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

export interface GlobalFlags {
  kubeconfig?: string;
  namespace?: string;
  context?: string;
}

/**
 * Everything a command needs: the streams, the client (built on first use, so
 * `--help` works without a kubeconfig), the namespace and the run's discovery
 * cache.
 */
export class Ctx {
  private clientCache?: ApiClient;
  private discoveryCache?: Discovery;
  private namespaceFromConfig?: string;

  constructor(
    readonly io: IO,
    readonly flags: GlobalFlags,
  ) {}

  get kubeconfigPath(): string {
    return this.flags.kubeconfig || defaultKubeconfigPath();
  }

  get client(): ApiClient {
    if (!this.clientCache) {
      const file = this.kubeconfigPath;
      if (!existsSync(file)) {
        throw new CliError(`kubeconfig ${file} not found: start a cluster with 'coxswain up', or point --kubeconfig or KUBECONFIG at one`);
      }
      let config;
      try {
        config = loadKubeconfig(file, this.flags.context);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      this.namespaceFromConfig = config.namespace;
      this.clientCache = new ApiClient(config);
    }
    return this.clientCache;
  }

  get discovery(): Discovery {
    if (!this.discoveryCache) this.discoveryCache = new Discovery(this.client);
    return this.discoveryCache;
  }

  /** -n, else the context's namespace, else "default". */
  get namespace(): string {
    if (this.flags.namespace) return this.flags.namespace;
    void this.client;
    return this.namespaceFromConfig ?? 'default';
  }

  /** The server URL for messages ("" before a client exists). */
  get server(): string {
    return this.clientCache?.server.href ?? '';
  }

  out(text: string): void {
    this.io.stdout.write(text);
  }

  err(text: string): void {
    this.io.stderr.write(text);
  }

  close(): void {
    this.clientCache?.close();
  }
}
