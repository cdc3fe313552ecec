import type { Secret } from 'kubernetes-types/core/v1';
import type { RegistryAuth } from './runtime';

/**
 * Registry credentials for an image from the pod's imagePullSecrets
 * (`kubernetes.io/dockerconfigjson` and legacy `kubernetes.io/dockercfg`),
 * most specific match first, as kubelet's credential keyring does. Pure.
 */

/** The registry host of an image reference: `docker.io` for Docker Hub names. */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = image.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return first;
  return 'docker.io';
}

/** Normalizes a config key (`https://index.docker.io/v1/`, `registry:5000`, `host/path`) to host and path prefix. */
function parseKey(key: string): { host: string; path: string } {
  const noScheme = key.replace(/^[a-z]+:\/\//i, '');
  const slash = noScheme.indexOf('/');
  let host = slash < 0 ? noScheme : noScheme.slice(0, slash);
  let p = slash < 0 ? '' : noScheme.slice(slash + 1).replace(/\/+$/, '');
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === 'docker.io') {
    host = 'docker.io';
    if (p === 'v1' || p === 'v2') p = '';
  }
  return { host, path: p };
}

interface DockerAuthEntry {
  username?: string;
  password?: string;
  auth?: string;
}

function entriesOf(s: Secret): Record<string, DockerAuthEntry> {
  const decode = (k: string) => (s.data?.[k] !== undefined ? Buffer.from(s.data[k], 'base64').toString('utf8') : s.stringData?.[k]);
  try {
    const json = decode('.dockerconfigjson');
    if (json) return (JSON.parse(json) as { auths?: Record<string, DockerAuthEntry> }).auths ?? {};
    const cfg = decode('.dockercfg');
    if (cfg) return JSON.parse(cfg) as Record<string, DockerAuthEntry>;
  } catch {
    // malformed: no credentials from this secret
  }
  return {};
}

export function registryAuthFor(image: string, secrets: Secret[]): RegistryAuth[] {
  const host = registryOf(image);
  const explicitHost = host !== 'docker.io' || image.startsWith('docker.io/');
  const repo = (explicitHost ? image.slice(image.indexOf('/') + 1) : image).replace(/[:@].*$/, '');
  const matches: { specificity: number; auth: RegistryAuth }[] = [];
  for (const s of secrets) {
    for (const [key, e] of Object.entries(entriesOf(s))) {
      const k = parseKey(key);
      if (k.host !== host) continue;
      if (k.path && !(repo === k.path || repo.startsWith(`${k.path}/`))) continue;
      let { username, password } = e;
      if ((!username || !password) && e.auth) {
        const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) {
          username = decoded.slice(0, colon);
          password = decoded.slice(colon + 1);
        }
      }
      if (!username) continue;
      matches.push({ specificity: k.path.length, auth: { username, password: password ?? '', serveraddress: host === 'docker.io' ? 'https://index.docker.io/v1/' : host } });
    }
  }
  return matches.sort((a, b) => b.specificity - a.specificity).map((m) => m.auth);
}
