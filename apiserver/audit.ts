import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { UserInfo } from './auth';
import type { Attributes } from './rbac';

/**
 * The audit log (--audit-log-path): one audit.k8s.io/v1 Event per JSON line, at Kubernetes'
 * "Metadata" level, for every mutating request and every request refused with 401/403. Who,
 * what, where and the outcome; never request or response bodies (so never a Secret's data or
 * an issued token) and never credentials.
 */

export interface AuditRecord {
  /** who sent the request */
  user?: UserInfo;
  /** whom it acted as (Impersonate-User) */
  impersonatedUser?: UserInfo;
  attrs?: Attributes;
  method: string;
  uri: string;
  code: number;
  sourceIP?: string;
  userAgent?: string;
  received: Date;
}

export interface AuditSink { write(rec: AuditRecord): void; close(): Promise<void> }

/** The audit.k8s.io/v1 Event for a record (pure). */
export function auditEvent(r: AuditRecord, now: Date, id: string = randomUUID()): Record<string, unknown> {
  const a = r.attrs;
  const ev: Record<string, unknown> = {
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: id, stage: 'ResponseComplete',
    requestURI: r.uri.length > 2048 ? r.uri.slice(0, 2048) : r.uri,
    verb: a?.verb ?? r.method.toLowerCase(),
    user: r.user ? { username: r.user.name, ...(r.user.uid ? { uid: r.user.uid } : {}), groups: r.user.groups } : { username: 'system:anonymous', groups: ['system:unauthenticated'] },
    ...(r.impersonatedUser ? { impersonatedUser: { username: r.impersonatedUser.name, groups: r.impersonatedUser.groups } } : {}),
    sourceIPs: r.sourceIP ? [r.sourceIP] : [],
    ...(r.userAgent ? { userAgent: r.userAgent.slice(0, 256) } : {}),
    responseStatus: { metadata: {}, code: r.code },
    requestReceivedTimestamp: r.received.toISOString(),
    stageTimestamp: now.toISOString(),
  };
  if (a && !a.nonResource) {
    ev.objectRef = {
      resource: a.resource, ...(a.namespace ? { namespace: a.namespace } : {}), ...(a.name ? { name: a.name } : {}),
      apiGroup: a.group ?? '', apiVersion: a.version, ...(a.subresource ? { subresource: a.subresource } : {}),
    };
  }
  return ev;
}

/**
 * Appends events to `file`. The lines of one event-loop turn go out in one write (under load a
 * write per request cost a syscall each); the order of events is kept.
 */
export function fileAuditSink(file: string, onError: (err: Error) => void = () => undefined): AuditSink {
  mkdirSync(path.dirname(file), { recursive: true });
  const out: WriteStream = createWriteStream(file, { flags: 'a', mode: 0o600 });
  let pending = '';
  let scheduled = false;
  let closed = false;
  // A full disk, say, must not take the apiserver down: report it and drop the lines.
  out.on('error', (err) => onError(err));
  const flush = () => {
    scheduled = false;
    if (pending && !closed && !out.destroyed) out.write(pending);
    pending = '';
  };
  return {
    write: (rec) => {
      if (closed) return; // a long request (logs -f, exec) ending after shutdown
      pending += JSON.stringify(auditEvent(rec, new Date())) + '\n';
      if (!scheduled) { scheduled = true; setImmediate(flush); }
    },
    close: () => new Promise((resolve) => {
      flush();
      closed = true;
      if (out.destroyed) resolve();
      else out.end(resolve);
    }),
  };
}
