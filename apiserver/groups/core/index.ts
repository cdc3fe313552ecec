import type { ResourceDef } from '../types';
import { CONFIG_MAP } from './configmap';
import { ENDPOINTS } from './endpoints';
import { EVENT } from './event';
import { LIMIT_RANGE } from './limitrange';
import { NAMESPACE } from './namespace/namespace';
import { NODE } from './node';
import { PERSISTENT_VOLUME } from './persistentvolume';
import { PERSISTENT_VOLUME_CLAIM } from './persistentvolumeclaim';
import { POD } from './pod/pod';
import { RESOURCE_QUOTA } from './resourcequota';
import { SECRET } from './secret';
import { SERVICE } from './service';
import { SERVICE_ACCOUNT } from './serviceaccount';

/** The core group (/api/v1). */
export const CORE: ResourceDef[] = [
  NAMESPACE, NODE, POD, SERVICE, ENDPOINTS, EVENT, CONFIG_MAP, SECRET, SERVICE_ACCOUNT, PERSISTENT_VOLUME, PERSISTENT_VOLUME_CLAIM, RESOURCE_QUOTA, LIMIT_RANGE,
];
