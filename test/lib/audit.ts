/**
 * Reading the apiserver's audit log (--audit-log-path, one audit.k8s.io/v1
 * Event per line) to tell which process wrote what, and when: every Coxswain
 * component's User-Agent ends in `(linux; pid N)`.
 */
import { readFile } from 'node:fs/promises';

export interface AuditEvent {
  verb: string;
  requestURI: string;
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string; apiGroup?: string };
  responseStatus: { code: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

export async function readAudit(file: string): Promise<AuditEvent[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as AuditEvent);
}

/** The pid in a Coxswain User-Agent, or undefined for another client. */
export function pidOf(e: AuditEvent): number | undefined {
  const m = /\(\w+; pid (\d+)\)$/.exec(e.userAgent ?? '');
  return m ? Number(m[1]) : undefined;
}

const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
export const isWrite = (e: AuditEvent) => WRITES.has(e.verb);
export const ok = (e: AuditEvent) => e.responseStatus.code >= 200 && e.responseStatus.code < 300;
const received = (e: AuditEvent) => Date.parse(e.requestReceivedTimestamp);

/**
 * A request about kube-system/<lease> by one of `pids`. A create names no object in
 * its URI (nor, here, in the audit event), so a create of any kube-system Lease
 * by these processes counts: each component writes only its own Lease.
 */
function aboutLease(e: AuditEvent, lease: string, pids: number[]): boolean {
  const r = e.objectRef;
  if (r?.resource !== 'leases' || r.namespace !== 'kube-system' || !pids.includes(pidOf(e) ?? -1)) return false;
  return r.name === lease || (r.name === undefined && e.verb === 'create');
}

/** The successful writes of kube-system/<lease> by `pids`, in the order they were received. */
export function leaseWrites(events: AuditEvent[], lease: string, pids: number[]): AuditEvent[] {
  return events.filter((e) => aboutLease(e, lease, pids) && isWrite(e) && ok(e)).sort((a, b) => received(a) - received(b));
}

/** Leadership terms among `pids`: each begins when a process's first write of the Lease in a row was received. */
export function terms(events: AuditEvent[], lease: string, pids: number[]): { pid: number; from: number }[] {
  const out: { pid: number; from: number }[] = [];
  for (const e of leaseWrites(events, lease, pids)) {
    const pid = pidOf(e);
    if (pid !== undefined && out.at(-1)?.pid !== pid) out.push({ pid, from: received(e) });
  }
  return out;
}

/**
 * Every request (whatever its answer) by a process in `pids` that is not about
 * the Lease itself and that the apiserver received while that process was not
 * the last to have written the Lease: writes by a process that was not (or no
 * longer) leader. A write received in the same millisecond as another's
 * takeover counts against it.
 */
export function writesOutsideTerm(events: AuditEvent[], lease: string, pids: number[]): AuditEvent[] {
  const ts = terms(events, lease, pids);
  const holderAt = (t: number) => ts.filter((x) => x.from <= t).at(-1)?.pid;
  return events.filter((e) => {
    const pid = pidOf(e);
    if (pid === undefined || !pids.includes(pid) || !isWrite(e)) return false;
    if (aboutLease(e, lease, pids)) return false;
    return holderAt(received(e)) !== pid;
  });
}
