import path from 'node:path';

/** package.json's version (this file runs as dist/lib/user-agent.js). */
const VERSION = (require('../../package.json') as { version: string }).version;

/**
 * The User-Agent this process sends to the apiserver, naming the component and
 * the process so an audit log tells writers apart (Kubernetes' components send
 * `kube-scheduler/v1.32.0 (linux/amd64) kubernetes/<commit>`):
 * `coxswain-scheduler/0.1.0 (linux; pid 1234)` for `coxswain scheduler`,
 * `coxctl/0.1.0 (...)` for coxctl, and `coxswain/0.1.0 (...)` otherwise
 * (tests, scripts). The apiserver's default field manager is the part before '/'.
 */
export function userAgent(argv: readonly string[] = process.argv, pid = process.pid, platform: string = process.platform, version = VERSION): string {
  const main = path.basename(argv[1] ?? '').replace(/\.[cm]?js$/, '');
  const sub = argv[2] ?? '';
  const product = main === 'coxctl' ? 'coxctl' : main === 'coxswain' && /^[a-z][a-z-]*$/.test(sub) ? `coxswain-${sub}` : 'coxswain';
  return `${product}/${version} (${platform}; pid ${pid})`;
}
