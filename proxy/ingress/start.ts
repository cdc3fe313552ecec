import tls from 'node:tls';
import type { Secret } from 'kubernetes-types/core/v1';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1';
import type { Logger } from 'pino';
import type { ApiClient } from '../../lib/client';
import type { EventRecorder } from '../../lib/events';
import { Informer } from '../../lib/informer';
import { INGRESSES, INGRESS_CLASSES, SECRETS } from '../../lib/resources';
import { selfSignedCertificate, TLS_SECRET_TYPE } from './certs';
import { IngressConfig } from './config';
import { IngressListeners } from './listeners';
import { ReverseProxy, type BackendLookup } from './reverse-proxy';

export interface IngressStartOptions {
  client: ApiClient;
  logger: Logger;
  recorder: EventRecorder;
  nodeName: string;
  addresses: string[];
  httpPort: number;
  httpsPort: number;
  lookup: BackendLookup;
}

export interface RunningIngress {
  config: IngressConfig;
  listeners: IngressListeners;
  /** Resolves when the informers have listed once. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The proxy's Ingress server: informers on Ingresses, IngressClasses and TLS
 * Secrets feed an IngressConfig; HTTP and HTTPS listeners on every address
 * route through a ReverseProxy whose backends come from `lookup`. A port that
 * cannot be bound is a Warning event on this Node and a log line.
 */
export async function startIngress(o: IngressStartOptions): Promise<RunningIngress> {
  const logger = o.logger.child({ part: 'ingress' });
  const defaultCert = await selfSignedCertificate();
  const config = new IngressConfig({ logger, events: o.recorder, defaultContext: tls.createSecureContext(defaultCert) });
  const proxy = new ReverseProxy({ logger, routes: () => config.routes(), lookup: o.lookup });
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: o.nodeName, uid: o.nodeName } };
  const listeners = new IngressListeners({
    logger,
    addresses: o.addresses,
    httpPort: o.httpPort,
    httpsPort: o.httpsPort,
    proxy,
    sni: (name) => config.sni(name),
    defaultCert,
    onBindFailure: (address, port, proto, err) =>
      o.recorder.event(node, 'Warning', 'IngressPortUnavailable', `ingress cannot listen on ${address}:${port} (${proto}): ${err.message}; retrying`),
  });
  const ingresses = new Informer<Ingress>(o.client, INGRESSES, { logger }).on({
    add: (i) => config.upsertIngress(i),
    update: (_o, i) => config.upsertIngress(i),
    delete: (i) => config.deleteIngress(i),
  });
  const classes = new Informer<IngressClass>(o.client, INGRESS_CLASSES, { logger }).on({
    add: (c) => config.upsertClass(c),
    update: (_o, c) => config.upsertClass(c),
    delete: (c) => config.deleteClass(c),
  });
  const secrets = new Informer<Secret>(o.client, SECRETS, { logger, fieldSelector: `type=${TLS_SECRET_TYPE}` }).on({
    add: (s) => config.upsertSecret(s),
    update: (_o, s) => config.upsertSecret(s),
    delete: (s) => config.deleteSecret(s),
  });
  await listeners.start();
  const synced = Promise.all([ingresses.start(), classes.start(), secrets.start()]).then(() => {
    config.refresh();
    logger.info({ ingresses: config.served().length }, 'ingress synced');
  });
  return {
    config,
    listeners,
    synced,
    async stop() {
      await Promise.all([ingresses.stop(), classes.stop(), secrets.stop()]);
      await listeners.stop();
    },
  };
}
