import test from 'node:test';
import assert from 'node:assert/strict';
import { age, goDuration, humanDuration } from './duration';

test('humanDuration matches apimachinery', () => {
  const s = 1000;
  const cases: [number, string][] = [
    [-5 * s, '<invalid>'],
    [-1_500, '0s'],
    [-500, '0s'],
    [0, '0s'],
    [45 * s, '45s'],
    [119 * s, '119s'],
    [5 * 60 * s + 3 * s, '5m3s'],
    [5 * 60 * s, '5m'],
    [15 * 60 * s, '15m'],
    [179 * 60 * s, '179m'],
    [3 * 3600 * s + 5 * 60 * s, '3h5m'],
    [10 * 3600 * s, '10h'],
    [3 * 86400 * s + 4 * 3600 * s, '3d4h'],
    [20 * 86400 * s, '20d'],
    [(2 * 365 + 30) * 86400 * s, '2y30d'],
    [9 * 365 * 86400 * s, '9y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}`);
});

test('age: <unknown> for a missing or bad timestamp, else the duration since it', () => {
  const now = Date.parse('2024-01-01T01:00:00Z');
  assert.equal(age(undefined, now), '<unknown>');
  assert.equal(age('not a time', now), '<unknown>');
  assert.equal(age('2024-01-01T00:55:00Z', now), '5m');
});

test("goDuration: Go's time.Duration string to the millisecond", () => {
  assert.equal(goDuration(0), '0s');
  assert.equal(goDuration(500), '500ms');
  assert.equal(goDuration(2_000), '2s');
  assert.equal(goDuration(15_017), '15.017s');
  assert.equal(goDuration(60_500), '1m0.5s');
  assert.equal(goDuration(7_203_000), '2h0m3s');
});
