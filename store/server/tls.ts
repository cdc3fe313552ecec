import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { TlsFiles } from '../config';

/**
 * TLS material from the store's flags (etcd's model): the peer port is served and
 * dialled with the peer certificate (it must carry both the server and the client
 * auth usage, and IP or DNS SANs matching the peer URLs' hosts); the client port
 * serves the client certificate and, with --client-cert-auth, asks for a client
 * certificate signed by --trusted-ca-file. Files are read once, at start.
 */

/** The peer side: server credentials for the peer port and channel credentials to dial peers. */
export interface PeerCredentials {
  server: grpc.ServerCredentials;
  channel: grpc.ChannelCredentials;
}

function read(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new Error(`store: cannot read ${flag} ${file}: ${(e as Error).message}`);
  }
}

/** Plain gRPC when `tls` is undefined (http:// peer URLs). */
export function peerCredentials(tls: (TlsFiles & { trustedCaFile: string }) | undefined): PeerCredentials {
  if (!tls) return { server: grpc.ServerCredentials.createInsecure(), channel: grpc.credentials.createInsecure() };
  const cert = read(tls.certFile, '--peer-cert-file');
  const key = read(tls.keyFile, '--peer-key-file');
  const ca = read(tls.trustedCaFile, '--peer-trusted-ca-file');
  return {
    server: grpc.ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], tls.clientCertAuth),
    // Our peer certificate doubles as the client certificate; the peer's server certificate is
    // checked against the peer CA and the host of its peer URL (an IP SAN for an IP).
    channel: grpc.credentials.createSsl(ca, key, cert),
  };
}

/** Options for `tls.TLSSocket`/`tls.createServer` on the client port. */
export interface ClientTlsOptions {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
  ALPNProtocols: string[];
}

export function clientTlsOptions(tls: TlsFiles): ClientTlsOptions {
  return {
    cert: read(tls.certFile, '--cert-file'),
    key: read(tls.keyFile, '--key-file'),
    ca: tls.trustedCaFile ? read(tls.trustedCaFile, '--trusted-ca-file') : undefined,
    requestCert: tls.clientCertAuth,
    rejectUnauthorized: tls.clientCertAuth,
    // gRPC clients (grpc-go, grpc-js) negotiate h2; Node's HTTP/2 server refuses a TLS socket without it.
    ALPNProtocols: ['h2'],
  };
}
