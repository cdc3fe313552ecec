import * as grpc from '@grpc/grpc-js';
import * as client from 'prom-client';
import type { StoreConfig } from '../config';
import { RaftDisk } from '../disk/raft-disk';
import { EtcdServer } from './etcd-server';
import type { MemberInfo } from './member-info';
import { bootstrapEntries } from './membership';
import { addEtcdServices, MAX_GRPC_RECV_BYTES } from './grpc-api';
import { addPeerService, fetchMembers, PEER_MAX_MESSAGE_BYTES, PeerClients } from './peer';
import { hostPort } from '../config';
import { listenClientFront, type ClientFront } from './client-front';
import { clientTlsOptions, peerCredentials, type PeerCredentials } from './tls';
import { startHealthServer, type HealthServer } from '../../lib/health';
import type { Logger } from '../../lib/log';

export interface StoreHandle {
  server: EtcdServer;
  /** Actual bound addresses (host:port), useful with port 0. */
  clientAddrs: string[];
  peerAddr: string;
  close(): Promise<void>;
}

const GRPC_SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': MAX_GRPC_RECV_BYTES,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  // etcd clients ping every few seconds (etcdctl --keepalive-time 2s); let them.
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 1000,
  // Channelz (per-call and per-message counters and timestamps) is not served here; skip its bookkeeping.
  'grpc.enable_channelz': 0,
};

/**
 * The client port is served through the :authority-fixing front (client-front.ts:
 * sniff each connection, rewrite only those that need it) unless
 * COXSWAIN_STORE_CLIENT_FRONT=off (then grpc-js binds it directly and `etcdctl
 * endpoint status` needs scheme-less endpoints); `=always` runs every connection
 * through the JS rewriter (the old behaviour, for comparison).
 */
function useClientFront(): boolean {
  return process.env.COXSWAIN_STORE_CLIENT_FRONT !== 'off';
}

function bind(server: grpc.Server, addr: string, creds = grpc.ServerCredentials.createInsecure()): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(addr, creds, (err, port) => (err ? reject(new Error(`store: cannot listen on ${addr}: ${err.message}`)) : resolve(port)));
  });
}

function shutdown(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 2000);
    server.tryShutdown(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

/**
 * etcd's join workflow (`etcdctl member add` first, then start the new member with
 * --initial-cluster-state existing): ask the running members listed in
 * --initial-cluster for the cluster id and member list, and find our own member id
 * by our peer URLs.
 */
async function discoverCluster(cfg: StoreConfig, creds: PeerCredentials, log: Logger): Promise<{ self: MemberInfo; members: MemberInfo[]; clusterIdHex: string }> {
  const errors: string[] = [];
  const mine = [...cfg.self.peerURLs].sort().join(',');
  for (const m of cfg.members) {
    if (m.name === cfg.name) continue;
    try {
      const r = await fetchMembers(hostPort(m.peerURLs[0]), 3000, creds.channel);
      const members = r.members as MemberInfo[];
      const me = members.find((x) => [...x.peerURLs].sort().join(',') === mine);
      if (!me) {
        throw new Error(
          `no member with peer URLs ${mine} in cluster ${r.cluster}; add it first (etcdctl member add ${cfg.name} --peer-urls=${cfg.self.peerURLs.join(',')})`,
        );
      }
      log.info({ via: m.name, memberId: me.idHex, clusterId: r.cluster }, 'joining existing cluster');
      return { self: { ...me, name: cfg.name, clientURLs: cfg.self.clientURLs }, members, clusterIdHex: r.cluster };
    } catch (e) {
      errors.push(`${m.name}: ${(e as Error).message}`);
    }
  }
  throw new Error(`store: cannot join the existing cluster: ${errors.join('; ') || 'no other member in --initial-cluster'}`);
}

/** Open the data dir, restore the snapshot, replay the log after it, start Raft, and serve clients and peers. */
export async function startStore(cfg: StoreConfig, log: Logger): Promise<StoreHandle> {
  // Read the certificate files first: a missing file is a flag mistake, reported before anything starts.
  const peerCreds = peerCredentials(cfg.peerTls);
  const clientTls = cfg.clientTls ? clientTlsOptions(cfg.clientTls) : undefined;
  const disk = await RaftDisk.open(cfg.dataDir);
  let loaded;
  let self = cfg.self;
  let members = cfg.members;
  let clusterIdHex = cfg.clusterIdHex;
  let snapshotData: Buffer | undefined;
  try {
    loaded = await disk.load();
    if (loaded.meta) {
      if (cfg.initialClusterState === 'existing') {
        // Restart of a member that joined: its ids are in the data dir, not derivable from the flags.
        self = { ...cfg.self, idHex: loaded.meta.memberId };
        clusterIdHex = loaded.meta.clusterId;
        members = members.filter((m) => m.name !== cfg.name).concat(self);
      } else if (loaded.meta.memberId !== cfg.self.idHex || loaded.meta.clusterId !== cfg.clusterIdHex) {
        throw new Error(
          `store: data dir ${cfg.dataDir} belongs to member ${loaded.meta.name} (${loaded.meta.memberId}) of cluster ${loaded.meta.clusterId}, ` +
            `but the flags describe member ${cfg.name} (${cfg.self.idHex}) of cluster ${cfg.clusterIdHex}`,
        );
      }
    } else if (cfg.initialClusterState === 'existing') {
      ({ self, members, clusterIdHex } = await discoverCluster(cfg, peerCreds, log));
      await disk.saveMeta({ format: 1, name: cfg.name, memberId: self.idHex, clusterId: clusterIdHex });
    } else {
      // A new cluster: every member's log starts with the same committed
      // ConfChange entries, one per initial member (etcd's bootstrap), so members
      // that join later learn the configuration from the log or a snapshot.
      if (loaded.entries.length === 0 && !loaded.snapshot) {
        const ents = bootstrapEntries(cfg.members);
        const hs = { term: 1, vote: '', commit: ents.length };
        await disk.save(hs, ents);
        loaded = { ...loaded, hardState: hs, entries: ents };
      }
      await disk.saveMeta({ format: 1, name: cfg.name, memberId: cfg.self.idHex, clusterId: cfg.clusterIdHex });
    }
    if (loaded.snapshot) snapshotData = await disk.readSnapshotFile(loaded.snapshot);
  } catch (e) {
    await disk.close().catch(() => {});
    throw e;
  }
  log.info(
    {
      memberId: self.idHex,
      clusterId: clusterIdHex,
      term: loaded.hardState.term,
      commit: loaded.hardState.commit,
      snapshot: loaded.snapshot?.index ?? 0,
      entries: loaded.entries.length,
    },
    'store member starting',
  );

  const server = new EtcdServer({
    self,
    members,
    clusterIdHex,
    disk,
    loaded,
    snapshotData,
    // A joining (or joined) member learns the configuration from the leader's log or snapshot.
    bootstrapVoters: cfg.initialClusterState === 'existing' ? [] : cfg.members.map((m) => m.idHex),
    tickMs: cfg.tickMs,
    electionTick: cfg.electionTick,
    heartbeatTick: cfg.heartbeatTick,
    snapshotCount: cfg.snapshotCount,
    log,
  });

  const peerServer = new grpc.Server({ ...GRPC_SERVER_OPTIONS, 'grpc.max_receive_message_length': PEER_MAX_MESSAGE_BYTES });
  addPeerService(peerServer, clusterIdHex, server, log);
  const clientServer = new grpc.Server(GRPC_SERVER_OPTIONS);
  addEtcdServices(clientServer, server, log, { progressNotifyIntervalMs: cfg.progressNotifyIntervalMs, dataDir: cfg.dataDir });

  server.attachPeers(
    new PeerClients(
      server.peerAddrs(),
      clusterIdHex,
      log,
      () => server.snapshotSource(),
      (to, ok) => server.reportSnapshot(to, ok),
      () => server.removedByPeer(),
      peerCreds.channel,
    ),
  );

  let metrics: HealthServer | undefined;
  const fronts: ClientFront[] = [];
  try {
    const peerPort = await bind(peerServer, cfg.peerListen, peerCreds.server);
    const clientPorts: number[] = [];
    for (const { addr, tls } of cfg.clientListen) {
      const tlsOpts = tls ? clientTls : undefined;
      if (useClientFront()) {
        const f = await listenClientFront(clientServer, addr, log, process.env.COXSWAIN_STORE_CLIENT_FRONT === 'always' ? 'always' : 'sniff', tlsOpts);
        fronts.push(f);
        clientPorts.push(f.port);
      } else {
        const creds = tlsOpts
          ? grpc.ServerCredentials.createSsl(tlsOpts.ca ?? null, [{ private_key: tlsOpts.key, cert_chain: tlsOpts.cert }], tlsOpts.requestCert)
          : undefined;
        clientPorts.push(await bind(clientServer, addr, creds));
      }
    }
    if (cfg.metricsListen) metrics = await startMetrics(cfg.metricsListen, server);
    const hostOf = (a: string): string => a.slice(0, a.lastIndexOf(':'));
    const handle: StoreHandle = {
      server,
      clientAddrs: cfg.clientListen.map((a, i) => `${hostOf(a.addr)}:${clientPorts[i]}`),
      peerAddr: `${hostOf(cfg.peerListen)}:${peerPort}`,
      close: async () => {
        log.info('store member stopping');
        await server.stop();
        const frontsClosed = Promise.all(fronts.map((f) => f.close()));
        await Promise.all([shutdown(clientServer), shutdown(peerServer)]);
        await frontsClosed;
        if (metrics) await metrics.close();
        await disk.close().catch(() => {});
      },
    };
    log.info({ client: handle.clientAddrs, peer: handle.peerAddr }, 'store member serving');
    return handle;
  } catch (e) {
    await server.stop();
    for (const f of fronts) void f.close();
    clientServer.forceShutdown();
    peerServer.forceShutdown();
    await disk.close().catch(() => {});
    throw e;
  }
}

/** /metrics (Prometheus) and etcd's /health (plus lib/health's /healthz, /livez, /readyz) on a small HTTP listener. */
async function startMetrics(addr: string, s: EtcdServer): Promise<HealthServer> {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const g = (name: string, help: string, fn: () => number): void => {
    new client.Gauge({ name, help, registers: [registry], collect() { this.set(fn()); } });
  };
  g('coxswain_store_raft_term', 'Current Raft term.', () => s.term);
  g('coxswain_store_raft_is_leader', '1 if this member is the Raft leader.', () => (s.isLeader() ? 1 : 0));
  g('coxswain_store_raft_has_leader', '1 if this member knows a leader.', () => (s.leaderHex ? 1 : 0));
  g('coxswain_store_raft_applied_index', 'Last applied log index.', () => s.appliedIndex);
  g('coxswain_store_raft_committed_index', 'Commit index.', () => s.node.raft.log.committed);
  g('coxswain_store_mvcc_revision', 'Current MVCC revision.', () => s.mvcc.revision);
  g('coxswain_store_mvcc_compact_revision', 'Last compaction revision.', () => s.mvcc.compactRevision);
  g('coxswain_store_mvcc_keys', 'Number of keys with history.', () => s.mvcc.keyCount());
  const i = addr.lastIndexOf(':');
  return startHealthServer({
    host: addr.slice(0, i),
    port: Number(addr.slice(i + 1)),
    registry,
    ready: () => s.leaderHex !== '',
    routes: {
      '/health': (_req, res) => {
        const ok = s.leaderHex !== '';
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ health: ok ? 'true' : 'false', reason: ok ? '' : 'no leader' }));
      },
    },
  });
}
