import type { ResourceDef } from '../types';
import { INGRESS } from './ingress';
import { INGRESS_CLASS } from './ingressclass';
import { NETWORK_POLICY } from './networkpolicy';

/** The networking.k8s.io group (v1). */
export const NETWORKING: ResourceDef[] = [INGRESS, INGRESS_CLASS, NETWORK_POLICY];
