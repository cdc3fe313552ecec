import * as grpc from '@grpc/grpc-js';
import type { Node } from 'kubernetes-types/core/v1';
import { kubeletProto, type KubeletApiClient } from './proto';

/**
 * The apiserver's client towards kubelets: gRPC with mutual TLS, presenting the
 * apiserver's kubelet client certificate and verifying the kubelet's serving certificate
 * against the cluster CA, for the node's name (kubelet certificates name their node).
 * One channel per node address, reused.
 */

export interface KubeletClientConfig {
  ca: Buffer | string;
  cert: Buffer | string;
  key: Buffer | string;
}

export const DEFAULT_KUBELET_PORT = 10250;

/** host:port of a node's kubelet API from its status (InternalIP, then any address; daemonEndpoints port). */
export function kubeletAddress(node: Node): { host: string; port: number } | undefined {
  const addrs = node.status?.addresses ?? [];
  const host = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs.find((a) => a.type === 'ExternalIP')?.address ?? addrs.find((a) => a.type === 'Hostname')?.address;
  if (!host) return undefined;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_KUBELET_PORT;
  return { host, port };
}

export class KubeletClientPool {
  private readonly clients = new Map<string, KubeletApiClient>();

  constructor(private readonly cfg: KubeletClientConfig) {}

  /** The gRPC client (dynamic stub: Logs, Exec, PortForward, Stats) of a node. */
  forNode(node: Node): KubeletApiClient {
    const addr = kubeletAddress(node);
    const name = node.metadata?.name ?? '';
    if (!addr) throw new Error(`node "${name}" has no address`);
    const target = `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
    const key = `${name}@${target}`;
    let c = this.clients.get(key);
    if (!c) {
      const { Client } = kubeletProto();
      const creds = grpc.credentials.createSsl(Buffer.from(this.cfg.ca), Buffer.from(this.cfg.key), Buffer.from(this.cfg.cert));
      c = new Client(target, creds, {
        'grpc.ssl_target_name_override': name,
        'grpc.default_authority': name,
        'grpc.max_receive_message_length': 8 * 1024 * 1024,
        'grpc.keepalive_time_ms': 30_000,
        // HTTP/2's default 64 KiB receive window caps a port-forward or log stream at one
        // window per round trip (about 35 MB/s here); a larger one lets bytes flow.
        'grpc-node.flow_control_window': 4 * 1024 * 1024,
      }) as unknown as KubeletApiClient;
      this.clients.set(key, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
