/** Events of every namespace, newest first. */
import { Status, Table } from '../components';
import { age } from '../format';
import type { EventView } from '../types';
import { collectionIn, useNamespace } from '../namespace';
import { useList } from '../watch';

const when = (e: EventView) => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '';

export function EventsTable(props: { limit?: number }) {
  const events = useList<EventView>(collectionIn('/api/v1', 'events', useNamespace()));
  const sorted = [...events.items].sort((a, b) => when(b).localeCompare(when(a)));
  const shown = props.limit ? sorted.slice(0, props.limit) : sorted;
  return (
    <>
      <Status {...events} />
      <Table
        id="events"
        headers={['NAMESPACE', 'LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']}
        rows={shown.map((e) => {
          const obj = e.involvedObject ?? e.regarding ?? {};
          return {
            key: `${e.metadata.namespace}/${e.metadata.name}`,
            cells: [e.metadata.namespace, age(when(e)), e.type ?? '', e.reason ?? '', `${(obj.kind ?? '').toLowerCase()}/${obj.name ?? ''}`, e.message ?? e.note ?? ''],
          };
        })}
        empty="no events"
      />
    </>
  );
}

export function Events() {
  return (
    <main>
      <h1>Events</h1>
      <EventsTable />
    </main>
  );
}
