import http from 'node:http';
import type { Logger } from 'pino';
import type { HealthCheckTarget } from './desired';

/**
 * kube-proxy's service health server: for each LoadBalancer Service with
 * externalTrafficPolicy Local, an HTTP server on its healthCheckNodePort (on
 * every NodePort address) that answers any path with 200 while this node has
 * a ready endpoint of it and 503 otherwise, so an external load balancer
 * sends traffic only to nodes that can serve it. Body and headers as
 * kube-proxy's: `{"service":{"namespace","name"},"localEndpoints":N,
 * "serviceProxyHealthy":true}`, `X-Load-Balancing-Endpoint-Weight: N`.
 */
export function healthCheckResponse(t: HealthCheckTarget, proxyHealthy: boolean): { status: number; headers: Record<string, string>; body: string } {
  return {
    status: t.localEndpoints > 0 && proxyHealthy ? 200 : 503,
    headers: { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff', 'X-Load-Balancing-Endpoint-Weight': String(t.localEndpoints) },
    body: JSON.stringify({ service: { namespace: t.namespace, name: t.name }, localEndpoints: t.localEndpoints, serviceProxyHealthy: proxyHealthy }),
  };
}

interface Served {
  target: HealthCheckTarget;
  servers: Map<string, http.Server>;
}

/**
 * The health servers, reconciled to a desired map by `sync` (called after
 * every proxy sync). A port that cannot be bound is logged and tried again
 * on the next sync; a port no longer wanted is closed.
 */
export class ServiceHealthServers {
  private readonly served = new Map<number, Served>();

  constructor(private readonly opts: { logger: Logger; addresses: readonly string[]; healthy?: () => boolean }) {}

  async sync(desired: ReadonlyMap<number, HealthCheckTarget>): Promise<void> {
    for (const [port, s] of [...this.served]) {
      if (desired.has(port)) continue;
      this.served.delete(port);
      await Promise.all([...s.servers.values()].map(closeServer));
      this.opts.logger.info({ healthCheckNodePort: port }, 'stopped service health check');
    }
    for (const [port, target] of desired) {
      let s = this.served.get(port);
      if (!s) this.served.set(port, (s = { target, servers: new Map() }));
      s.target = target;
      for (const address of this.opts.addresses) {
        if (s.servers.has(address)) continue;
        const entry = s;
        const server = http.createServer((req, res) => {
          const r = healthCheckResponse(entry.target, this.opts.healthy?.() ?? true);
          res.writeHead(r.status, r.headers).end(req.method === 'HEAD' ? undefined : r.body);
        });
        try {
          await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(port, address, () => {
              server.off('error', reject);
              resolve();
            });
          });
          server.on('error', (err) => this.opts.logger.warn({ healthCheckNodePort: port, err: err.message }, 'health check server error'));
          s.servers.set(address, server);
          this.opts.logger.info({ healthCheckNodePort: port, address, service: `${target.namespace}/${target.name}` }, 'serving service health check');
        } catch (err) {
          this.opts.logger.warn({ healthCheckNodePort: port, address, err: (err as Error).message }, 'cannot serve service health check; will retry on the next sync');
        }
      }
    }
  }

  async stop(): Promise<void> {
    await this.sync(new Map());
  }
}

function closeServer(s: http.Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
}
