import { accessSync, constants } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/**
 * What a host needs before a node can run there (`coxswain up`, and the agent and server of
 * the multi-host work): root (the kubelet makes bridges and veth pairs, the proxy puts Service
 * IPs on `lo`), `ip` and `iptables` on the PATH, and a Docker engine answering on its socket.
 * `checkHost` is pure over the probes; `realProbes` are the IO. A missing piece is one line
 * that says what is wrong and what to do, instead of a cluster that never gets ready.
 */

export interface HostProbes {
  isRoot(): boolean;
  hasCommand(name: string): boolean;
  /** undefined when the engine answers /_ping on the socket, else why not. */
  pingDocker(socket: string): Promise<string | undefined>;
}

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * The Docker engine's socket as the docker CLI finds it: `DOCKER_HOST` when set (only
 * `unix://` endpoints: the kubelet talks to a local engine), else /var/run/docker.sock.
 */
export function dockerSocket(env: NodeJS.ProcessEnv = process.env): { socket?: string; problem?: string } {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return { socket: DEFAULT_DOCKER_SOCKET };
  if (host.startsWith('unix://')) return { socket: host.slice('unix://'.length) };
  return { problem: `DOCKER_HOST=${host} is not a unix:// socket; the kubelet needs the local Docker engine's socket (unset DOCKER_HOST, or set it to unix:///path/to/docker.sock)` };
}

/** The first problem that keeps a node from running on this host, as one line; undefined when there is none. */
export async function checkHost(probes: HostProbes, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (!probes.isRoot()) return 'not running as root: the kubelet creates a bridge and veth pairs for pods and the proxy adds Service IPs to lo (run it with sudo, or as root)';
  for (const [cmd, pkg] of [['ip', 'iproute2'], ['iptables', 'iptables']] as const) {
    if (!probes.hasCommand(cmd)) return `\`${cmd}\` is not on the PATH: the kubelet wires pod networks with it (install ${pkg}, e.g. apt-get install ${pkg})`;
  }
  const { socket, problem } = dockerSocket(env);
  if (problem || !socket) return problem;
  const why = await probes.pingDocker(socket);
  if (why) return `no Docker engine answers on ${socket} (${why}): start it (systemctl start docker, or dockerd &), or point DOCKER_HOST at its socket`;
  return undefined;
}

export const realProbes: HostProbes = {
  isRoot: () => process.getuid?.() === 0,
  hasCommand(name) {
    // the PATH the kubelet's own `ip`/`iptables` calls will search
    return (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).some((d) => {
      try {
        accessSync(path.join(d, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  },
  pingDocker(socket) {
    return new Promise((resolve) => {
      const req = http.get({ socketPath: socket, path: '/_ping', timeout: 3000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode} from /_ping`);
      });
      req.on('timeout', () => req.destroy(new Error('no answer in 3 s')));
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
  },
};
