import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The kubelet streaming API (`kubelet.proto`), loaded with proto-loader. Shared by the
 * kubelet (server) and the apiserver (client). Field names keep their proto case.
 */

export const PROTO_FILE: string = (() => {
  const candidates = [__dirname, path.resolve(__dirname, '../../../kubelet/server')];
  for (const c of candidates) if (fs.existsSync(path.join(c, 'kubelet.proto'))) return path.join(c, 'kubelet.proto');
  throw new Error(`kubelet: cannot find kubelet.proto (looked in ${candidates.join(', ')})`);
})();

let pkg: any; // eslint-disable-line @typescript-eslint/no-explicit-any
export function kubeletProto(): { service: grpc.ServiceDefinition; Client: grpc.ServiceClientConstructor } {
  if (!pkg) {
    const def = protoLoader.loadSync(PROTO_FILE, { keepCase: true, longs: Number, enums: String, bytes: Buffer, defaults: true, oneofs: true });
    pkg = grpc.loadPackageDefinition(def);
  }
  const Client = pkg.coxswain.kubelet.v1.KubeletStreaming as grpc.ServiceClientConstructor;
  return { service: Client.service, Client };
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
