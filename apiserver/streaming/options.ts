import { errors } from '../errors';
import { boolParam, param, params } from '../query';

/** Pure request parsing for the pods/log, pods/exec and pods/portforward subresources. */


function int(query: Record<string, unknown>, name: string, min: number): number | undefined {
  const v = param(query, name);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw errors.badRequest(`${name}: Invalid value: "${v}": must be an integer`);
  if (n < min) throw errors.badRequest(`${name}: Invalid value: ${n}: must be ${min === 0 ? 'greater than or equal to 0' : `greater than ${min - 1}`}`);
  return n;
}

export interface LogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: string;
  limitBytes?: number;
}

/** PodLogOptions from the query, validated as Kubernetes does. */
export function parseLogOptions(query: Record<string, unknown>): LogOptions {
  const o: LogOptions = {
    container: param(query, 'container') || undefined,
    follow: boolParam(query, 'follow'),
    previous: boolParam(query, 'previous'),
    timestamps: boolParam(query, 'timestamps'),
    tailLines: int(query, 'tailLines', 0),
    sinceSeconds: int(query, 'sinceSeconds', 1),
    sinceTime: param(query, 'sinceTime') || undefined,
    limitBytes: int(query, 'limitBytes', 1),
  };
  if (o.sinceSeconds !== undefined && o.sinceTime !== undefined) throw errors.badRequest('at most one of `sinceTime` or `sinceSeconds` may be specified');
  if (o.sinceTime !== undefined && !Number.isFinite(Date.parse(o.sinceTime))) throw errors.badRequest(`sinceTime: Invalid value: "${o.sinceTime}": must be an RFC3339 time`);
  return o;
}

export interface ExecOptions {
  container?: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** PodExecOptions (also PodAttachOptions, without command) from the query. */
export function parseExecOptions(query: Record<string, unknown>, attach = false): ExecOptions {
  const o: ExecOptions = {
    container: param(query, 'container') || undefined,
    command: params(query, 'command'),
    stdin: boolParam(query, 'stdin'),
    stdout: boolParam(query, 'stdout'),
    stderr: boolParam(query, 'stderr'),
    tty: boolParam(query, 'tty'),
  };
  if (!attach && o.command.length === 0) throw errors.badRequest('you must specify at least one command for the container');
  if (!o.stdin && !o.stdout && !o.stderr) throw errors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (o.tty && o.stderr) o.stderr = false; // a TTY merges stderr into stdout
  return o;
}

/** `ports=80&ports=8080` or `ports=80,8080`. */
export function parsePorts(query: Record<string, unknown>): number[] {
  const ports = params(query, 'ports').flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  if (ports.length === 0) throw errors.badRequest('query parameter "port" is required');
  return ports.map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw errors.badRequest(`invalid port "${p}": must be between 1 and 65535`);
    return n;
  });
}

interface PodLike {
  metadata?: { name?: string };
  spec?: { containers?: { name: string }[]; initContainers?: { name: string }[]; ephemeralContainers?: { name: string }[] };
}

/**
 * The container a log/exec request is about: the one named, or the only container;
 * Kubernetes' messages when it is ambiguous or unknown.
 */
export function resolveContainer(pod: PodLike, container: string | undefined): string {
  const name = pod.metadata?.name ?? '';
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  const inits = (pod.spec?.initContainers ?? []).map((c) => c.name);
  const ephemeral = (pod.spec?.ephemeralContainers ?? []).map((c) => c.name);
  if (!container) {
    if (containers.length === 1) return containers[0];
    let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
    if (inits.length) msg += ` or one of the init containers: [${inits.join(' ')}]`;
    if (ephemeral.length) msg += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
    throw errors.badRequest(msg);
  }
  if ([...containers, ...inits, ...ephemeral].includes(container)) return container;
  throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
}
