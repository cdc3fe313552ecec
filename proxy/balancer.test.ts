import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoundRobin } from './balancer';

const b = (n: number) => Array.from({ length: n }, (_, i) => ({ ip: `10.0.0.${i + 1}`, port: 80, ready: true, serving: true, terminating: false }));

test('round robin cycles through every backend, per service port', () => {
  const rr = new RoundRobin();
  const picks = Array.from({ length: 6 }, () => rr.candidates('ns/a:', b(3), undefined, 1)[0].ip);
  assert.deepEqual(picks, ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
  assert.equal(rr.candidates('ns/b:', b(3), undefined, 1)[0].ip, '10.0.0.1', 'another port has its own cursor');
});

test('candidates continue round the ring, bounded by max and by the backend count', () => {
  const rr = new RoundRobin();
  rr.candidates('k', b(3), undefined, 1);
  assert.deepEqual(
    rr.candidates('k', b(3), undefined, 5).map((x) => x.ip),
    ['10.0.0.2', '10.0.0.3', '10.0.0.1'],
  );
  assert.equal(rr.candidates('k', b(4), undefined, 2).length, 2);
  assert.deepEqual(rr.candidates('k', [], undefined, 3), []);
});

test('cursor survives endpoint changes and retain forgets gone ports', () => {
  const rr = new RoundRobin();
  rr.candidates('k', b(3), undefined, 1);
  rr.candidates('k', b(3), undefined, 1);
  assert.equal(rr.candidates('k', b(2), undefined, 1)[0].ip, '10.0.0.1', 'cursor 2 mod 2');
  rr.retain(new Set());
  assert.equal(rr.candidates('k', b(3), undefined, 1)[0].ip, '10.0.0.1');
});
