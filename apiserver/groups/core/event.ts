import type { Event } from 'kubernetes-types/core/v1';
import { withStatus } from '../shared/defs';
import { type FieldError, notSupported, required } from '../shared/fields';
import { since } from '../shared/printers';
import type { ResourceDef } from '../types';

/** Event (core/v1): PUT creates a missing object, as in Kubernetes. */

export function validateEvent(ev: Event): FieldError[] {
  const errs: FieldError[] = [];
  if (!ev.involvedObject || typeof ev.involvedObject !== 'object') errs.push(required('involvedObject'));
  if (ev.type !== undefined && ev.type !== '' && !['Normal', 'Warning'].includes(ev.type)) errs.push(notSupported('type', ev.type, ['Normal', 'Warning']));
  return errs;
}

function eventLastSeen(ev: Event, now: Date): string {
  const last = ev.series?.lastObservedTime ?? ev.lastTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp;
  const first = ev.firstTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp;
  const count = ev.series?.count ?? ev.count ?? 1;
  const l = since(last, now);
  return count > 1 && first ? `${l} (x${count} over ${since(first, now)})` : l;
}

export const EVENT: ResourceDef = {
  ...withStatus, group: '', kind: 'Event', listKind: 'EventList', plural: 'events', singular: 'event', shortNames: ['ev'], namespaced: true,
  hasStatus: false, statusOnCreate: 'keep', allowCreateOnUpdate: true,
  // Events go --event-ttl after their last write (kube-apiserver's event storage TTL)
  strategy: { expiresAfterEventTtl: true },
  fieldLabels: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
    'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  validate: (o) => validateEvent(o as Event),
  printer: {
    columns: [['Last Seen', 'string'], ['Type', 'string'], ['Reason', 'string'], ['Object', 'string'], ['Subobject', 'string', 1],
      ['Source', 'string', 1], ['Message', 'string'], ['First Seen', 'string', 1], ['Count', 'string', 1], ['Name', 'string', 1, 'name']],
    cells(obj, now) {
      const e = obj as Event;
      const io = e.involvedObject ?? {};
      const src = e.source?.component ? [e.source.component, e.source.host].filter(Boolean).join(', ') : e.reportingComponent ?? '';
      return [eventLastSeen(e, now), e.type ?? '', e.reason ?? '', `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`, io.fieldPath ?? '',
        src, String(e.message ?? '').trim(), since(e.firstTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp, now), String(e.count ?? 1), e.metadata?.name];
    },
  },
};
