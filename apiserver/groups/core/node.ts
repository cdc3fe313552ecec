import type { Node, NodeSystemInfo } from 'kubernetes-types/core/v1';
import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { withStatus } from '../shared/defs';
import { LABEL_VALUE, validateLabelKey } from '../shared/object-meta';
import { duplicate, type FieldError, forbidden, invalid, notSupported, required } from '../shared/fields';
import { AGE, NAME, noneIfEmpty, objectAge } from '../shared/printers';
import type { ResourceDef } from '../types';

/** Node (core/v1): registered by each kubelet; status written by it and the node controller. */

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** Nodes: taints (qualified-name key, known effect, unique key+effect) and podCIDR(s). */
export function validateNode(n: Node, old?: Node): FieldError[] {
  const errs: FieldError[] = [];
  const spec = n.spec ?? {};
  const seen = new Set<string>();
  (Array.isArray(spec.taints) ? spec.taints : []).forEach((t, i) => {
    const f = `spec.taints[${i}]`;
    if (typeof t?.key !== 'string' || !t.key) errs.push(required(`${f}.key`));
    else if (!validateLabelKey(t.key)) errs.push(invalid(`${f}.key`, t.key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    if (t?.value !== undefined && t.value !== '' && (typeof t.value !== 'string' || t.value.length > 63 || !LABEL_VALUE.test(t.value))) errs.push(invalid(`${f}.value`, t.value, 'a valid label must be an empty string or consist of alphanumeric characters'));
    if (!TAINT_EFFECTS.includes(t?.effect)) errs.push(t?.effect ? notSupported(`${f}.effect`, t.effect, TAINT_EFFECTS) : required(`${f}.effect`));
    const k = `${t?.key}:${t?.effect}`;
    if (seen.has(k)) errs.push(duplicate(`${f}`, k));
    seen.add(k);
  });
  for (const [i, c] of [spec.podCIDR, ...(Array.isArray(spec.podCIDRs) ? spec.podCIDRs : [])].entries()) {
    if (c === undefined || c === '' || c === null) continue;
    const [ip, bits] = typeof c === 'string' ? c.split('/') : [];
    if (!ip || !isIP(ip) || bits === undefined || !/^\d{1,3}$/.test(bits) || Number(bits) > (isIP(ip) === 4 ? 32 : 128)) errs.push(invalid(i === 0 ? 'spec.podCIDR' : `spec.podCIDRs[${i - 1}]`, c, 'must be a valid CIDR'));
  }
  // podCIDR(s) and providerID may go from unset to set, never change after (ValidateNodeUpdate)
  const prev = old?.spec ?? {};
  const oldCidrs: unknown[] = Array.isArray(prev.podCIDRs) && prev.podCIDRs.length ? prev.podCIDRs : prev.podCIDR ? [prev.podCIDR] : [];
  const newCidrs: unknown[] = Array.isArray(spec.podCIDRs) && spec.podCIDRs.length ? spec.podCIDRs : spec.podCIDR ? [spec.podCIDR] : [];
  if (old && oldCidrs.length && !isDeepStrictEqual(oldCidrs, newCidrs)) errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  if (old && prev.providerID && prev.providerID !== spec.providerID) errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  return errs;
}

function nodeStatus(node: Node): string {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries<string>(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) { const r = k.slice('node-role.kubernetes.io/'.length); if (r) roles.add(r); }
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

const nodeAddress = (node: Node, type: string) => noneIfEmpty((node.status?.addresses ?? []).find((a) => a.type === type)?.address);

export const NODE: ResourceDef = {
  ...withStatus, group: '', kind: 'Node', listKind: 'NodeList', plural: 'nodes', singular: 'node', shortNames: ['no'], namespaced: false,
  subresources: ['status'], statusOnCreate: 'keep', fieldLabels: ['spec.unschedulable'],
  validate: (o, _c, old) => validateNode(o, old),
  printer: {
    columns: [NAME, ['Status', 'string'], ['Roles', 'string'], AGE, ['Version', 'string'],
      ['Internal-IP', 'string', 1], ['External-IP', 'string', 1], ['OS-Image', 'string', 1], ['Kernel-Version', 'string', 1], ['Container-Runtime', 'string', 1]],
    cells(n: Node, now) {
      const info: Partial<NodeSystemInfo> = n.status?.nodeInfo ?? {};
      return [n.metadata?.name, nodeStatus(n), nodeRoles(n), objectAge(n, now), info.kubeletVersion ?? '',
        nodeAddress(n, 'InternalIP'), nodeAddress(n, 'ExternalIP'), info.osImage || '<unknown>', info.kernelVersion || '<unknown>', info.containerRuntimeVersion || '<unknown>'];
    },
  },
};
