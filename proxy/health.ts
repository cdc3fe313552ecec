import http from 'node:http';
import type { Registry } from 'prom-client';

/**
 * Serves `/healthz` (JSON like kube-proxy's: lastUpdated, currentTime; 503
 * until the first sync) and `/metrics` (Prometheus text) on one port.
 */
export function createHealthServer(opts: { registry: Registry; lastSync: () => number }): http.Server {
  return http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (url === '/healthz' || url === '/livez') {
      const last = opts.lastSync();
      const body = JSON.stringify({ lastUpdated: last ? new Date(last).toISOString() : '', currentTime: new Date().toISOString() });
      res.writeHead(last ? 200 : 503, { 'Content-Type': 'application/json' }).end(body);
      return;
    }
    if (url === '/metrics') {
      opts.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'Content-Type': opts.registry.contentType }).end(text))
        .catch((err: Error) => res.writeHead(500).end(err.message));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  });
}
