import * as grpc from '@grpc/grpc-js';
import type { Node } from 'kubernetes-types/core/v1';
import { kubeletProto } from '../../kubelet/server/proto';

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

const DEFAULT_KUBELET_PORT = 10250;

/** The kubelet API's messages as the apiserver sends and reads them (kubelet.proto; proto-loader keeps field case). */
interface PodRef { namespace: string; name: string; uid: string }
export interface LogsRequest { pod: PodRef; container: string; follow: boolean; previous: boolean; tail_lines: number; since_unix: number; timestamps: boolean; limit_bytes: number }
export interface LogsChunk { data: Buffer }
export type ExecInput =
  | { start: { pod: PodRef; container: string; command: string[]; stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean; size?: { width: number; height: number } } }
  | { stdin: Buffer } | { stdin_close: true } | { resize: { width: number; height: number } };
export interface ExecOutput { msg?: 'stdout' | 'stderr' | 'exit' | 'started'; stdout?: Buffer; stderr?: Buffer; exit?: { exit_code?: number; error?: string } }
export type PortForwardInput = { start: { pod: PodRef; port: number } } | { data: Buffer } | { close_write: true };
export interface PortForwardOutput { msg?: 'data' | 'error' | 'connected'; data?: Buffer; error?: string }

/** The kubelet API client (the generated stub's methods the apiserver calls). */
export interface KubeletClient {
  Logs(req: LogsRequest): grpc.ClientReadableStream<LogsChunk>;
  Exec(): grpc.ClientDuplexStream<ExecInput, ExecOutput>;
  PortForward(): grpc.ClientDuplexStream<PortForwardInput, PortForwardOutput>;
  Stats(req: { pod?: { namespace: string; name: string } }, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res: unknown) => void): grpc.ClientUnaryCall;
}

/** host:port of a node's kubelet API from its status (InternalIP, then any address; daemonEndpoints port). */
function kubeletAddress(node: Node): { host: string; port: number } | undefined {
  const addrs = node.status?.addresses ?? [];
  const host = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs.find((a) => a.type === 'ExternalIP')?.address ?? addrs.find((a) => a.type === 'Hostname')?.address;
  if (!host) return undefined;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_KUBELET_PORT;
  return { host, port };
}

export class KubeletClientPool {
  private readonly clients = new Map<string, grpc.Client & KubeletClient>();

  constructor(private readonly cfg: KubeletClientConfig) {}

  /** The gRPC client of a node. */
  forNode(node: Node): KubeletClient {
    const addr = kubeletAddress(node);
    const name = node.metadata?.name ?? '';
    if (!addr) throw new Error(`node "${name}" has no address`);
    const target = `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
    const key = `${name}@${target}`;
    let c = this.clients.get(key);
    if (!c) {
      const { Client } = kubeletProto();
      const creds = grpc.credentials.createSsl(Buffer.from(this.cfg.ca), Buffer.from(this.cfg.key), Buffer.from(this.cfg.cert));
      // the dynamic stub built from kubelet.proto has exactly KubeletClient's methods
      c = new Client(target, creds, {
        'grpc.ssl_target_name_override': name,
        'grpc.default_authority': name,
        'grpc.max_receive_message_length': 8 * 1024 * 1024,
        'grpc.keepalive_time_ms': 30_000,
      }) as unknown as grpc.Client & KubeletClient;
      this.clients.set(key, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
