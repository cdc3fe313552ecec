import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../lib/log';
import { kubeletProto, type ExecInput, type ExecOutput, type LogsRequest, type PodRef, type PortForwardInput, type PortForwardOutput } from '../api/proto';
import type { ContainerRuntime } from '../runtime';
import { KubeletStreamingService } from './service';

/**
 * The kubelet's gRPC server (:10250) with mutual TLS: only clients whose certificate the
 * cluster CA signed get in (checkClientCertificate), and of those only the apiserver's
 * kubelet client identity (or system:masters) may call (authorizedClient).
 */

export interface KubeletServerOptions {
  runtime: ContainerRuntime;
  nodeName: string;
  nodeIP: string;
  log: Logger;
  host: string;
  port: number;
  tls: { cert: Buffer | string; key: Buffer | string; ca: Buffer | string };
  /** Who may call, by certificate CN or O (default: the apiserver's kubelet client and system:masters). */
  allowed?: (cn: string, orgs: string[]) => boolean;
}

export const defaultAllowed = (cn: string, orgs: string[]) => cn === 'kube-apiserver-kubelet-client' || orgs.includes('system:masters');

/** The part of a grpc-js server call that names the peer (its TLS client certificate). */
interface PeerCall {
  getAuthContext?: () => { sslPeerCertificate?: { subject?: Record<string, string | string[] | undefined> } };
}

function peerIdentity(call: PeerCall): { cn: string; orgs: string[] } {
  const subject = call.getAuthContext?.()?.sslPeerCertificate?.subject ?? {};
  const asList = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return { cn: asList(subject.CN)[0] ?? '', orgs: asList(subject.O) };
}

export class KubeletServer {
  private readonly server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  readonly service: KubeletStreamingService;
  port = 0;

  constructor(private readonly o: KubeletServerOptions) {
    this.service = new KubeletStreamingService({ runtime: o.runtime, nodeName: o.nodeName, nodeIP: o.nodeIP, log: o.log });
    const allowed = o.allowed ?? defaultAllowed;
    const deny = (call: PeerCall & Pick<grpc.ServerWritableStream<unknown, unknown>, 'emit'>): boolean => {
      const who = peerIdentity(call);
      if (allowed(who.cn, who.orgs)) return false;
      o.log.warn({ user: who.cn }, 'kubelet API call refused');
      call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: `user "${who.cn}" may not use the kubelet API` });
      return true;
    };
    const { service } = kubeletProto();
    this.server.addService(service, {
      Logs: (call: grpc.ServerWritableStream<LogsRequest, { data: Buffer }>) => {
        if (!deny(call)) void this.service.logs(call);
      },
      Exec: (call: grpc.ServerDuplexStream<ExecInput, ExecOutput>) => {
        if (!deny(call)) this.service.exec(call);
      },
      PortForward: (call: grpc.ServerDuplexStream<PortForwardInput, PortForwardOutput>) => {
        if (!deny(call)) this.service.portForward(call);
      },
      Stats: (call: grpc.ServerUnaryCall<{ pod?: PodRef }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const who = peerIdentity(call);
        if (!allowed(who.cn, who.orgs)) return cb({ code: grpc.status.PERMISSION_DENIED, details: `user "${who.cn}" may not use the kubelet API` });
        this.service.stats(call.request?.pod).then((r) => cb(null, r), (err) => cb({ code: grpc.status.INTERNAL, details: String((err as Error).message) }));
      },
    });
  }

  async start(): Promise<number> {
    const creds = grpc.ServerCredentials.createSsl(
      Buffer.from(this.o.tls.ca),
      [{ cert_chain: Buffer.from(this.o.tls.cert), private_key: Buffer.from(this.o.tls.key) }],
      true,
    );
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host}:${this.o.port}`, creds, (err, port) => (err ? reject(err) : resolve(port))),
    );
    this.o.log.info({ port: this.port }, 'kubelet API (gRPC, mutual TLS) listening');
    return this.port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2_000);
      this.server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

export type { AddressInfo };
