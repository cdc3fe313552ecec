import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The kubelet streaming API (`kubelet.proto`), loaded with proto-loader. Shared by the
 * kubelet (server) and the apiserver (client). Field names keep their proto case.
 */

export const PROTO_FILE: string = (() => {
  const candidates = [__dirname, path.resolve(__dirname, '../../../kubelet/api')];
  for (const c of candidates) if (fs.existsSync(path.join(c, 'kubelet.proto'))) return path.join(c, 'kubelet.proto');
  throw new Error(`kubelet: cannot find kubelet.proto (looked in ${candidates.join(', ')})`);
})();

let loaded: grpc.ServiceClientConstructor | undefined;
/** The `KubeletStreaming` service definition (server side) and its dynamic client constructor; loaded once. */
export function kubeletProto(): { service: grpc.ServiceDefinition; Client: grpc.ServiceClientConstructor } {
  if (!loaded) {
    const def = protoLoader.loadSync(PROTO_FILE, { keepCase: true, longs: Number, enums: String, bytes: Buffer, defaults: true, oneofs: true });
    let node: grpc.GrpcObject[string] = grpc.loadPackageDefinition(def);
    for (const part of ['coxswain', 'kubelet', 'v1', 'KubeletStreaming']) {
      if (typeof node !== 'object' || !(part in node)) throw new Error(`kubelet.proto: no ${part} in coxswain.kubelet.v1.KubeletStreaming`);
      node = (node as grpc.GrpcObject)[part];
    }
    loaded = node as grpc.ServiceClientConstructor;
  }
  return { service: loaded.service, Client: loaded };
}

/** The client stub of `KubeletStreaming` (grpc-js builds its methods from kubelet.proto at run time). */
export interface KubeletApiClient extends grpc.Client {
  Logs(request: LogsRequest): grpc.ClientReadableStream<{ data: Buffer }>;
  Exec(): grpc.ClientDuplexStream<ExecInput, ExecOutput>;
  PortForward(): grpc.ClientDuplexStream<PortForwardInput, PortForwardOutput>;
  Stats(request: { pod?: PodRef }, callback: (err: grpc.ServiceError | null, response?: unknown) => void): grpc.ClientUnaryCall;
  Stats(request: { pod?: PodRef }, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, response?: unknown) => void): grpc.ClientUnaryCall;
}

export interface PodRef { namespace: string; name: string; uid?: string }

export interface LogsRequest {
  pod: PodRef;
  container: string;
  follow?: boolean;
  previous?: boolean;
  /** < 0 (or absent): all lines. */
  tail_lines?: number;
  /** 0 / absent: from the start; Unix seconds of the oldest line. */
  since_unix?: number;
  timestamps?: boolean;
  /** 0 / absent: no limit. */
  limit_bytes?: number;
}

export interface ExecStart {
  pod: PodRef;
  container: string;
  command: string[];
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  tty?: boolean;
  size?: { width: number; height: number };
}

export type ExecInput =
  | { start: ExecStart; msg?: 'start' }
  | { stdin: Buffer; msg?: 'stdin' }
  | { stdin_close: boolean; msg?: 'stdin_close' }
  | { resize: { width: number; height: number }; msg?: 'resize' };

export interface ExecOutput {
  msg: 'stdout' | 'stderr' | 'exit' | 'started';
  stdout?: Buffer;
  stderr?: Buffer;
  exit?: { exit_code: number; error: string };
  started?: boolean;
}

export type PortForwardInput =
  | { start: { pod: PodRef; port: number }; msg?: 'start' }
  | { data: Buffer; msg?: 'data' }
  | { close_write: boolean; msg?: 'close_write' };

export interface PortForwardOutput {
  msg: 'data' | 'error' | 'connected';
  data?: Buffer;
  error?: string;
  connected?: boolean;
}
