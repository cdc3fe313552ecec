import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * A new store member's first step on a joining server: add it to the running
 * cluster with the etcd v3 Cluster API (MemberAdd), then hand back the
 * --initial-cluster to start it with (and --initial-cluster-state existing).
 *
 * The store refuses an add that could cost the cluster its quorum (etcd's strict
 * reconfiguration check: "unhealthy cluster", "not enough started members"), e.g.
 * while an earlier joiner has been added but not started. Those refusals, and an
 * unreachable or leaderless store, are retried with backoff until the deadline, so
 * several servers joining at once end up members one after the other. A retried
 * join (the earlier attempt crashed after its add) finds its peer URL already in
 * the cluster and takes that as success.
 *
 * Talks gRPC to the store with the store's own etcd.proto, found by path (lib/
 * does not import the store's code).
 */

export interface StoreMemberView {
  ID: string;
  name: string;
  peerURLs: string[];
}

/**
 * The --initial-cluster of a new member `self` given the cluster's member list
 * (which includes it). A member that was added but has not started has no name
 * yet (etcd lists it with an empty one); it gets the placeholder `member-<id hex>`,
 * since every entry needs a name and an empty one would merge such members.
 */
export function initialClusterText(members: StoreMemberView[], self: { name: string; peerURL: string }): string {
  const parts: string[] = [];
  for (const m of members) {
    const ours = m.peerURLs.includes(self.peerURL);
    const name = ours ? self.name : m.name || `member-${BigInt(m.ID).toString(16).padStart(16, '0')}`;
    const urls = ours ? [self.peerURL] : m.peerURLs;
    for (const u of urls) parts.push(`${name}=${u}`);
  }
  return parts.join(',');
}

/** What to do after a failed call: 'exists' (our URL is in: look it up), 'retry', or 'fail'. */
export function joinErrorKind(err: { code?: number; details?: string }): 'exists' | 'retry' | 'fail' {
  const text = err.details ?? '';
  if (/Peer URLs already exists/.test(text)) return 'exists';
  if (/unhealthy cluster|not enough started members|no leader|leader changed|request timed out|server stopped|too many requests/.test(text)) return 'retry';
  if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED || err.code === grpc.status.CANCELLED) return 'retry';
  return 'fail';
}

type Unary = (req: unknown, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;
type ClusterClient = grpc.Client & { MemberAdd: Unary; MemberList: Unary };

let clusterCtor: grpc.ServiceClientConstructor | undefined;

function protoDir(): string {
  // dist/lib -> <repo>/store/proto (the .proto files ship as source); lib (ts-node style) -> ../store/proto
  const candidates = [path.resolve(__dirname, '../../store/proto'), path.resolve(__dirname, '../store/proto')];
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'etcd.proto')));
  if (!dir) throw new Error(`store-join: cannot find etcd.proto (looked in ${candidates.join(', ')})`);
  return dir;
}

function clusterService(): grpc.ServiceClientConstructor {
  if (!clusterCtor) {
    const dir = protoDir();
    const def = protoLoader.loadSync(path.join(dir, 'etcd.proto'), { keepCase: true, longs: String, defaults: true, includeDirs: [dir] });
    clusterCtor = (grpc.loadPackageDefinition(def) as unknown as { etcdserverpb: { Cluster: grpc.ServiceClientConstructor } }).etcdserverpb.Cluster;
  }
  return clusterCtor;
}

function call(client: ClusterClient, method: 'MemberAdd' | 'MemberList', req: unknown, timeoutMs: number): Promise<{ members: StoreMemberView[] }> {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res as { members: StoreMemberView[] })));
  });
}

export interface AddStoreMemberOptions {
  /** Client URLs of running members (http:// or https://). */
  endpoints: string[];
  /** PEM text (not file names): the CA of the store's client port, and a client certificate and key. */
  tls?: { ca: string; cert: string; key: string };
  /** The new member's --name. */
  name: string;
  /** The new member's peer URL (its --initial-advertise-peer-urls). */
  peerURL: string;
  /** Give up this many ms from now. */
  deadlineMs: number;
  log?: (msg: string) => void;
}

export async function addStoreMember(o: AddStoreMemberOptions): Promise<{ initialCluster: string }> {
  if (o.endpoints.length === 0) throw new Error('store-join: no store endpoints');
  const Ctor = clusterService();
  const tlsCreds = o.tls ? grpc.credentials.createSsl(Buffer.from(o.tls.ca), Buffer.from(o.tls.key), Buffer.from(o.tls.cert)) : undefined;
  const clients = o.endpoints.map((url) => {
    const u = new URL(url.includes('://') ? url : `http://${url}`);
    const https = u.protocol === 'https:';
    if (https && !tlsCreds) throw new Error(`store-join: endpoint ${url} is https:// but no tls was given`);
    return new Ctor(`${u.hostname}:${u.port || '2379'}`, https ? tlsCreds! : grpc.credentials.createInsecure(), { 'grpc.enable_retries': 0 }) as unknown as ClusterClient;
  });
  const until = Date.now() + o.deadlineMs;
  const self = { name: o.name, peerURL: o.peerURL };
  let backoffMs = 200;
  let lastError = '';
  try {
    for (let attempt = 0; ; attempt++) {
      const client = clients[attempt % clients.length];
      const timeoutMs = Math.max(1, Math.min(until - Date.now(), 15_000));
      try {
        // A member list first: an earlier attempt of this join may already have added us.
        const listed = await call(client, 'MemberList', {}, timeoutMs);
        if (listed.members.some((m) => m.peerURLs.includes(o.peerURL))) {
          o.log?.(`store member ${o.peerURL} is already in the cluster; joining as ${o.name}`);
          return { initialCluster: initialClusterText(listed.members, self) };
        }
        const added = await call(client, 'MemberAdd', { peerURLs: [o.peerURL] }, timeoutMs);
        o.log?.(`added store member ${o.name} (${o.peerURL})`);
        return { initialCluster: initialClusterText(added.members, self) };
      } catch (e) {
        const err = e as grpc.ServiceError;
        const kind = joinErrorKind(err);
        lastError = err.details || err.message;
        if (kind === 'fail') throw new Error(`store-join: adding ${o.peerURL} failed: ${lastError}`);
        if (kind === 'exists') {
          // Our own add went through on an earlier try (or raced this one): the next round lists it.
          backoffMs = 0;
        }
        o.log?.(`adding store member ${o.peerURL}: ${lastError}; retrying`);
      }
      const left = until - Date.now();
      if (left <= 0) throw new Error(`store-join: could not add ${o.peerURL} within ${o.deadlineMs} ms: ${lastError}`);
      const wait = Math.min(left, backoffMs * (0.5 + Math.random()));
      await new Promise((r) => setTimeout(r, wait));
      backoffMs = Math.min(Math.max(backoffMs * 2, 200), 3000);
    }
  } finally {
    for (const c of clients) c.close();
  }
}
