import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../lib/fake-clock';
import { ClientIPAffinity } from './affinity';
import { RoundRobin } from './balancer';

const b = (n: number) => Array.from({ length: n }, (_, i) => ({ ip: `10.0.0.${i + 1}`, port: 80, ready: true, serving: true, terminating: false }));
const pick = (a: ClientIPAffinity, client: string, backends = b(3), target = 'ns/web:') => a.candidates(target, backends, client, 1)[0]?.ip;

function setup(timeouts: Record<string, number> = { 'ns/web:': 60 }) {
  const clock = new FakeClock();
  const a = new ClientIPAffinity(new RoundRobin(), (t) => timeouts[t], clock);
  return { clock, a };
}

test('table: which backend a client gets', async (t) => {
  const cases: { name: string; steps: { client: string; advanceS?: number; backends?: number; want: string }[] }[] = [
    {
      name: 'a client sticks to its first backend; another client gets the next one',
      steps: [
        { client: 'A', want: '10.0.0.1' },
        { client: 'A', want: '10.0.0.1' },
        { client: 'B', want: '10.0.0.2' },
        { client: 'A', want: '10.0.0.1' },
        { client: 'B', want: '10.0.0.2' },
      ],
    },
    {
      name: 'the timeout counts from the last use, not the first',
      steps: [
        { client: 'A', want: '10.0.0.1' },
        { client: 'A', advanceS: 50, want: '10.0.0.1' },
        { client: 'A', advanceS: 50, want: '10.0.0.1' },
      ],
    },
    {
      name: 'after the timeout the client is balanced again',
      steps: [
        { client: 'A', want: '10.0.0.1' },
        { client: 'A', advanceS: 60, want: '10.0.0.2' },
        { client: 'A', want: '10.0.0.2' },
      ],
    },
    {
      name: 'a backend that left the ready list is replaced, and the replacement sticks',
      steps: [
        { client: 'A', want: '10.0.0.1' },
        { client: 'B', want: '10.0.0.2' },
        { client: 'B', backends: 1, want: '10.0.0.1' },
        { client: 'B', backends: 3, want: '10.0.0.1' },
      ],
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const { clock, a } = setup();
      for (const [i, s] of c.steps.entries()) {
        if (s.advanceS) clock.advance(s.advanceS * 1000);
        assert.equal(pick(a, s.client, b(s.backends ?? 3)), s.want, `step ${i}`);
      }
    });
  }
});

test('without affinity (or without a client address) it is plain round robin and remembers nothing', () => {
  const { a } = setup({});
  assert.deepEqual([pick(a, 'A'), pick(a, 'A'), pick(a, 'A')], ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  assert.equal(a.clients('ns/web:'), 0);
  const { a: a2 } = setup();
  assert.deepEqual(
    [0, 1].map(() => a2.candidates('ns/web:', b(3), undefined, 1)[0]!.ip),
    ['10.0.0.1', '10.0.0.2'],
  );
});

test('the sticky backend comes first, the others follow as fallbacks, bounded by max', () => {
  const { a } = setup();
  pick(a, 'A');
  pick(a, 'B');
  const c = a.candidates('ns/web:', b(3), 'B', 3).map((x) => x.ip);
  assert.equal(c[0], '10.0.0.2');
  assert.deepEqual([...c].sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  assert.equal(a.candidates('ns/web:', b(3), 'B', 2).length, 2);
  assert.deepEqual(a.candidates('ns/web:', [], 'B', 3), []);
});

test('retain drops expired clients and gone ports; the per-port client table is bounded', () => {
  const { clock, a } = setup({ 'ns/web:': 10, 'ns/other:': 10 });
  pick(a, 'A');
  clock.advance(5_000);
  pick(a, 'B');
  clock.advance(5_000);
  a.retain(new Set(['ns/web:']));
  assert.equal(a.clients('ns/web:'), 1, 'A expired, B kept');
  a.retain(new Set());
  assert.equal(a.clients('ns/web:'), 0);

  const small = new ClientIPAffinity(new RoundRobin(), () => 60, new FakeClock(), 2);
  for (const c of ['A', 'B', 'C']) small.candidates('k', b(3), c, 1);
  assert.equal(small.clients('k'), 2);
  assert.equal(small.candidates('k', b(3), 'B', 1)[0]!.ip, '10.0.0.2', 'B still remembered');
});
