import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServer {
  server: http.Server;
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * The /healthz, /livez, /readyz and /metrics endpoint of the scheduler, the
 * controllers and the kubelet (plain HTTP, as kube-controller-manager's
 * insecure port was). `ready()` decides /readyz (e.g. informers synced).
 * Resolves once listening; rejects if the port cannot be bound.
 */
export async function startHealthServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  ready?: () => boolean;
  /** Further paths this component serves (e.g. the store's etcd-style /health). */
  routes?: Record<string, http.RequestListener>;
}): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const route = opts.routes?.[url];
    if (route) {
      route(req, res);
    } else if (url === '/healthz' || url === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    } else if (url === '/readyz') {
      const ok = opts.ready ? opts.ready() : true;
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok' : 'not ready');
    } else if (url === '/metrics') {
      opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': opts.registry.contentType }).end(text),
        (err) => res.writeHead(500).end(String(err)),
      );
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
