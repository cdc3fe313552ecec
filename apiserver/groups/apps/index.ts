import type { ResourceDef } from '../types';
import { CONTROLLER_REVISION } from './controllerrevision';
import { DAEMON_SET } from './daemonset';
import { DEPLOYMENT } from './deployment';
import { REPLICA_SET } from './replicaset';
import { STATEFUL_SET } from './statefulset';

/** The apps group (apps/v1): workloads. */
export const APPS: ResourceDef[] = [REPLICA_SET, DEPLOYMENT, STATEFUL_SET, DAEMON_SET, CONTROLLER_REVISION];
