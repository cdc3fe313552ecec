import type { IncomingHttpHeaders } from 'node:http';
import type { UserInfo } from './auth';
import type { ApiError } from './errors';
import { type Attributes, type Decision, forbidden } from './rbac';

/**
 * Impersonation (`kubectl --as`, `--as-group`): Impersonate-User / Impersonate-Group /
 * Impersonate-Uid headers, each authorized as verb "impersonate" on users, groups (or
 * serviceaccounts for system:serviceaccount:<ns>:<name>) and uids, as Kubernetes' impersonation
 * filter does. Returns the user to act as, the requester when nothing is impersonated, or the
 * 403 to send.
 */
export async function impersonate(headers: IncomingHttpHeaders, requester: UserInfo,
  authorize: (u: UserInfo, a: Record<string, unknown>) => Promise<Decision> | Decision): Promise<UserInfo | ApiError> {
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const users = list(headers['impersonate-user']);
  const groups = list(headers['impersonate-group']);
  const uids = list(headers['impersonate-uid']);
  if (!users.length && !groups.length && !uids.length) return requester;
  const check = async (a: Attributes): Promise<ApiError | undefined> => {
    const d = await authorize(requester, a as unknown as Record<string, unknown>);
    return d.allowed ? undefined : forbidden(requester.name, a, d.reason);
  };
  if (users.length !== 1 || !users[0]) return forbidden(requester.name, { verb: 'impersonate', group: '', resource: 'users' }, 'requested impersonation without a single Impersonate-User');
  const name = users[0];
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  const userAttrs: Attributes = sa
    ? { verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] }
    : { verb: 'impersonate', group: '', resource: 'users', name };
  const denied = await check(userAttrs);
  if (denied) return denied;
  for (const g of groups) {
    const e = await check({ verb: 'impersonate', group: '', resource: 'groups', name: g });
    if (e) return e;
  }
  for (const u of uids) {
    const e = await check({ verb: 'impersonate', group: 'authentication.k8s.io', resource: 'uids', name: u });
    if (e) return e;
  }
  const out = new Set(groups);
  if (sa && !groups.length) { out.add('system:serviceaccounts'); out.add(`system:serviceaccounts:${sa[1]}`); }
  if (name !== 'system:anonymous') out.add('system:authenticated');
  return { name, groups: [...out], ...(uids[0] ? { uid: uids[0] } : {}) };
}
