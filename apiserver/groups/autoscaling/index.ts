import type { ResourceDef } from '../types';
import { HORIZONTAL_POD_AUTOSCALER_V1, HORIZONTAL_POD_AUTOSCALER_V2 } from './horizontalpodautoscaler';

/** The autoscaling group: v2 is the storage version, v1 a converted view (the Scale subresource is in scale.ts). */
export const AUTOSCALING: ResourceDef[] = [HORIZONTAL_POD_AUTOSCALER_V2, HORIZONTAL_POD_AUTOSCALER_V1];
