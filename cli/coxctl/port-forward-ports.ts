import type { Pod, Service } from 'kubernetes-types/core/v1';
import { CliError } from './errors';

/** Pure port handling for `coxctl port-forward`, as kubectl does it. */

export interface ForwardedPort {
  /** 0: pick a free port. */
  local: number;
  remote: number;
}

/** `[LOCAL:]REMOTE` → local and remote as typed (`:80` has an empty local). */
export function splitPort(spec: string): { local: string; remote: string } {
  const parts = spec.split(':');
  if (parts.length === 2) return { local: parts[0], remote: parts[1] };
  return { local: parts[0], remote: parts[0] };
}

function containerPortByName(pod: Pod, name: string): number {
  for (const c of pod.spec?.containers ?? []) for (const p of c.ports ?? []) if (p.name === name) return p.containerPort;
  throw new CliError(`Pod '${pod.metadata?.name ?? ''}' does not have a named port '${name}'`);
}

/** A pod's named ports → numbers (kubectl's convertPodNamedPortToNumber). */
export function podPorts(specs: string[], pod: Pod): string[] {
  return specs.map((spec) => {
    const { local, remote } = splitPort(spec);
    if (remote === '') throw new CliError('remote port cannot be empty');
    const num = /^\d+$/.test(remote) ? remote : String(containerPortByName(pod, remote));
    return local !== remote ? `${local}:${num}` : num;
  });
}

/**
 * Service ports → the pod's target ports (kubectl's translateServicePortToTargetPort): a named
 * Service port is looked up, then its targetPort (a number, or a name looked up in the pod).
 */
export function servicePorts(specs: string[], svc: Service, pod: Pod): string[] {
  const svcName = svc.metadata?.name ?? '';
  return specs.map((spec) => {
    let { local, remote } = splitPort(spec);
    let portnum: number;
    if (/^\d+$/.test(remote)) portnum = Number(remote);
    else {
      const p = (svc.spec?.ports ?? []).find((x) => x.name === remote);
      if (!p) throw new CliError(`Service '${svcName}' does not have a named port '${remote}'`);
      portnum = p.port;
      if (local === remote) local = String(portnum);
    }
    const sp = (svc.spec?.ports ?? []).find((x) => x.port === portnum);
    if (!sp) throw new CliError(`Service ${svcName} does not have a service port ${portnum}`);
    let target: number;
    const tp = sp.targetPort;
    if (tp === undefined || tp === '' || tp === 0) target = sp.port;
    else if (typeof tp === 'number' || /^\d+$/.test(String(tp))) target = Number(tp);
    else target = containerPortByName(pod, String(tp));
    remote = String(target);
    return local !== remote ? `${local}:${remote}` : remote;
  });
}

/** Parses translated specs into numbers, with kubectl's messages. */
export function parsePorts(specs: string[]): ForwardedPort[] {
  return specs.map((spec) => {
    const { local, remote } = splitPort(spec);
    const r = Number(remote);
    if (!/^\d+$/.test(remote) || r < 1 || r > 65535) throw new CliError(`Error parsing remote port '${remote}': invalid port`);
    if (local === '') return { local: 0, remote: r };
    const l = Number(local);
    if (!/^\d+$/.test(local) || l > 65535) throw new CliError(`Error parsing local port '${local}': invalid port`);
    return { local: l, remote: r };
  });
}

export interface ListenAddress {
  address: string;
  family: 4 | 6;
  /** `localhost` expands to two addresses, either of which may fail; a named one must bind. */
  required: boolean;
}

/** `--address` values → addresses to listen on (`localhost` → 127.0.0.1 and ::1). */
export function listenAddresses(values: string[]): ListenAddress[] {
  const out: ListenAddress[] = [];
  for (const v of values.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean)) {
    if (v === 'localhost') {
      out.push({ address: '127.0.0.1', family: 4, required: false }, { address: '::1', family: 6, required: false });
    } else if (/^\d{1,3}(\.\d{1,3}){3}$/.test(v)) out.push({ address: v, family: 4, required: true });
    else if (v.includes(':')) out.push({ address: v, family: 6, required: true });
    else throw new CliError(`${v} is not a valid IP`);
  }
  return out;
}

/** `127.0.0.1:8080` / `[::1]:8080`, as Go's net.JoinHostPort. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
