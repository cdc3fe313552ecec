import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress } from './progress';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, s: { isTTY, write: (c: string) => (chunks.push(c), true) } as unknown as NodeJS.WritableStream & { isTTY?: boolean } };
}

test('a terminal gets a counter, redrawn at most every interval and always at the end, then cleared', () => {
  const { chunks, s } = stream(true);
  let now = 0;
  const p = new Progress(s, 6, 'applying', { now: () => now });
  p.tick();
  now = 10;
  p.tick();
  p.tick();
  now = 200;
  p.tick();
  p.clear();
  p.tick();
  p.tick();
  p.end();
  assert.deepEqual(chunks, ['\r\x1b[Kapplying 1/6 (16%)', '\r\x1b[Kapplying 4/6 (66%)', '\r\x1b[K', '\r\x1b[Kapplying 5/6 (83%)', '\r\x1b[Kapplying 6/6 (100%)', '\r\x1b[K']);
});

test('quiet when stderr is not a terminal, or for a few objects', () => {
  const pipe = stream(false);
  const p = new Progress(pipe.s, 50, 'applying');
  for (let i = 0; i < 50; i++) p.tick();
  p.end();
  assert.deepEqual(pipe.chunks, []);
  const few = stream(true);
  const q = new Progress(few.s, 3, 'applying');
  q.tick();
  q.end();
  assert.deepEqual(few.chunks, []);
});
