import { spawn } from 'node:child_process';
import path from 'node:path';
import { ApiProxy } from '../dashboard/proxy';
import { startDashboardServer } from '../dashboard/server';
import type { Ctx } from './context';
import { CliError } from './errors';

export interface DashboardFlags {
  port: string;
  address: string;
  /** commander's `--no-open`: false when given. */
  open: boolean;
}

/** Where the build puts the bundled UI (dist/cli/dashboard/ui). */
export const UI_DIR = path.join(__dirname, '..', 'dashboard', 'ui');

/** Opens `url` in the desktop's browser, if there is one; never fails. */
function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const p = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    p.on('error', () => undefined);
    p.unref();
  } catch {
    // no browser here: the URL is printed anyway
  }
}

/**
 * `coxctl dashboard`: serves the web UI on `--address:--port` and proxies the
 * API to the cluster with the kubeconfig's credentials until SIGINT/SIGTERM.
 */
export async function runDashboard(ctx: Ctx, flags: DashboardFlags): Promise<number> {
  const port = Number(flags.port);
  if (!/^\d+$/.test(flags.port) || port > 65535) throw new CliError(`invalid port "${flags.port}": expected a number from 0 to 65535`);
  const proxy = new ApiProxy(ctx.client.config);
  let server;
  try {
    server = await startDashboardServer({ address: flags.address, port, uiDir: UI_DIR, proxy, onRefused: (line) => ctx.err(line + '\n') });
  } catch (err) {
    proxy.close();
    throw new CliError(`cannot listen on ${flags.address}:${port}: ${(err as Error).message}`);
  }
  ctx.out(`Serving the dashboard for ${ctx.server} on ${server.url} (Ctrl-C to stop)\n`);
  if (flags.open) openBrowser(server.url);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  proxy.close();
  return 0;
}
