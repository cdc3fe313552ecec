import type { ResourceDef } from '../types';
import { CRON_JOB } from './cronjob';
import { JOB } from './job';

/** The batch group (batch/v1). */
export const BATCH: ResourceDef[] = [JOB, CRON_JOB];
