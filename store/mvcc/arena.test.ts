import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arena } from './arena';

test('arena: copies are exact, independent of their source, never overlap, and large ones get their own buffer', () => {
  const a = new Arena(1024);
  const made: { b: Buffer; want: Buffer }[] = [];
  for (let i = 0; i < 300; i++) {
    const s = String.fromCharCode(...Array.from({ length: (i * 7) % 90 }, (_, j) => (i + j) % 256));
    made.push({ b: a.from(s, 'latin1'), want: Buffer.from(s, 'latin1') });
    const u = `ü€${i}`;
    made.push({ b: a.from(u, 'utf8'), want: Buffer.from(u, 'utf8') });
    const src = Buffer.from([i & 255, 1, 2, 3]);
    const c = a.copy(src);
    src.fill(0); // the copy does not follow its source
    made.push({ b: c, want: Buffer.from([i & 255, 1, 2, 3]) });
  }
  const big = a.copy(Buffer.alloc(500, 9));
  assert.equal(big.buffer.byteLength, 500);
  for (const { b, want } of made) assert.deepEqual(b, want);
  assert.equal(a.from('', 'utf8').length, 0);
  // Slices of one slab do not overlap.
  const bySlab = new Map<ArrayBufferLike, [number, number][]>();
  for (const { b } of made) if (b.length > 0) (bySlab.get(b.buffer) ?? bySlab.set(b.buffer, []).get(b.buffer)!).push([b.byteOffset, b.byteOffset + b.length]);
  for (const spans of bySlab.values()) {
    spans.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1]);
  }
  assert.ok(bySlab.size > 1, 'several slabs used');
});
