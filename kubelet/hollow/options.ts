import type { Taint } from 'kubernetes-types/core/v1';
import { parseDuration } from '../../lib/duration';
import { parseQuantity } from '../../lib/quantity';

/** What `coxswain hollow-nodes` was asked for, checked. */
export interface HollowOptions {
  count: number;
  prefix: string;
  labels: Record<string, string>;
  /** Zones the nodes are spread over by index (topology.kubernetes.io/zone); empty: none set. */
  zones: string[];
  taints: Taint[];
  /** Capacity (= allocatable) quantities, as given. */
  cpu: string;
  memory: string;
  pods: string;
  kubeconfig?: string;
  /** Lease renewal period per node (ms). */
  leaseRenewMs: number;
  leaseDurationSeconds: number;
  /** Full node status write period per node (ms). */
  nodeStatusMs: number;
  /** API writes in flight at once for pod statuses and deletes, and separately for node writes. */
  concurrency: number;
  /** Delete the Nodes on SIGTERM/SIGINT. */
  deleteNodes: boolean;
}

/** The raw flag values commander hands over (strings, as typed). */
export interface HollowFlags {
  count: string;
  prefix: string;
  labels?: string;
  zones?: string;
  taints?: string;
  cpu: string;
  memory: string;
  pods: string;
  kubeconfig?: string;
  leaseRenewInterval: string;
  leaseDurationSeconds: string;
  nodeStatusInterval: string;
  concurrency: string;
  deleteNodes?: boolean;
}

// RFC 1123 subdomain name, and a label key's optional prefix + name.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function checkKey(key: string, flag: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) throw new Error(`${flag}: key ${JSON.stringify(key)}: prefix must be a DNS subdomain`);
  if (name === '' || name.length > 63 || !LABEL_NAME.test(name)) throw new Error(`${flag}: key ${JSON.stringify(key)}: name must be 1-63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`);
}

function checkValue(value: string, what: string, flag: string): void {
  if (value.length > 63 || !LABEL_NAME.test(value)) throw new Error(`${flag}: ${what}: value ${JSON.stringify(value)} must be at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`);
}

/** `k=v,k2=v2` → a label map. */
export function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`--labels: ${JSON.stringify(part)} is not key=value`);
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    checkKey(key, '--labels');
    checkValue(value, key, '--labels');
    out[key] = value;
  }
  return out;
}

const EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** `a,b,c` → zone names, each a valid label value; none may be given twice, nor with a zone in --labels. */
export function parseZones(text: string | undefined, labels: Record<string, string>): string[] {
  const zones = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (zones.length === 0) return [];
  if (labels[ZONE_LABEL] !== undefined) throw new Error(`--zones: cannot be used with ${ZONE_LABEL} in --labels`);
  for (const z of zones) if (z.length > 63 || !LABEL_NAME.test(z)) throw new Error(`--zones: ${JSON.stringify(z)} must be at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`);
  const twice = zones.find((z, i) => zones.indexOf(z) !== i);
  if (twice !== undefined) throw new Error(`--zones: ${JSON.stringify(twice)} is given twice`);
  return zones;
}

/** `key=value:Effect` or `key:Effect`, comma-separated, as kubectl taint writes them. */
export function parseTaints(text: string | undefined): Taint[] {
  const out: Taint[] = [];
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const colon = part.lastIndexOf(':');
    if (colon <= 0) throw new Error(`--taints: ${JSON.stringify(part)} is not key[=value]:Effect`);
    const effect = part.slice(colon + 1);
    if (!EFFECTS.has(effect)) throw new Error(`--taints: ${JSON.stringify(part)}: effect must be one of NoSchedule, PreferNoSchedule, NoExecute`);
    const kv = part.slice(0, colon);
    const eq = kv.indexOf('=');
    const key = eq >= 0 ? kv.slice(0, eq) : kv;
    checkKey(key, '--taints');
    const taint: Taint = { key, effect };
    if (eq >= 0) {
      checkValue(kv.slice(eq + 1), key, '--taints');
      taint.value = kv.slice(eq + 1);
    }
    out.push(taint);
  }
  return out;
}

function positiveInt(text: string, flag: string, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new Error(`${flag}: ${JSON.stringify(text)} must be a whole number from 1 to ${max}`);
  return n;
}

function quantity(text: string, flag: string): string {
  const v = parseQuantity(text);
  if (v === undefined || v <= 0) throw new Error(`${flag}: ${JSON.stringify(text)} is not a positive quantity (e.g. 4, 500m, 16Gi)`);
  return text.trim();
}

function durationMs(text: string, flag: string): number {
  let ms = 0;
  try {
    ms = parseDuration(text);
  } catch {
    ms = 0;
  }
  if (ms <= 0) throw new Error(`${flag}: ${JSON.stringify(text)} is not a positive duration (e.g. 2s, 1m)`);
  return ms;
}

/** Checks and converts the flags; throws an Error naming the flag and the reason. */
export function hollowOptions(f: HollowFlags): HollowOptions {
  const count = positiveInt(f.count, '--count', 100_000);
  const prefix = f.prefix;
  // The longest name must still be a DNS subdomain (a Node's name).
  const longest = `${prefix}${count - 1}`;
  if (longest.length > 253 || !DNS_SUBDOMAIN.test(longest)) throw new Error(`--prefix: ${JSON.stringify(prefix)}: node names like ${JSON.stringify(longest)} must be lowercase DNS subdomains`);
  const pods = positiveInt(f.pods, '--pods', 250);
  const leaseDurationSeconds = positiveInt(f.leaseDurationSeconds, '--lease-duration-seconds', 3600);
  const leaseRenewMs = durationMs(f.leaseRenewInterval, '--lease-renew-interval');
  if (leaseRenewMs >= leaseDurationSeconds * 1000) throw new Error(`--lease-renew-interval: ${f.leaseRenewInterval} must be shorter than --lease-duration-seconds (${leaseDurationSeconds}s)`);
  const labels = parseLabels(f.labels);
  return {
    count,
    prefix,
    labels,
    zones: parseZones(f.zones, labels),
    taints: parseTaints(f.taints),
    cpu: quantity(f.cpu, '--cpu'),
    memory: quantity(f.memory, '--memory'),
    pods: String(pods),
    kubeconfig: f.kubeconfig,
    leaseRenewMs,
    leaseDurationSeconds,
    nodeStatusMs: durationMs(f.nodeStatusInterval, '--node-status-interval'),
    concurrency: positiveInt(f.concurrency, '--concurrency', 1024),
    deleteNodes: f.deleteNodes === true,
  };
}
