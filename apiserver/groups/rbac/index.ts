import type { ResourceDef } from '../types';
import { CLUSTER_ROLE, ROLE } from './role';
import { CLUSTER_ROLE_BINDING, ROLE_BINDING } from './rolebinding';

/** The rbac.authorization.k8s.io group (v1): stored and validated here, enforced by the authorizer (rbac.ts). */
export const RBAC: ResourceDef[] = [ROLE, CLUSTER_ROLE, ROLE_BINDING, CLUSTER_ROLE_BINDING];
