import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ndjsonLines } from './ndjson';

async function collect(chunks: Buffer[]): Promise<string[]> {
  const out: string[] = [];
  for await (const line of ndjsonLines(Readable.from(chunks))) out.push(line);
  return out;
}

test('lines split across chunks, blank lines skipped, a final line without newline kept', async () => {
  assert.deepEqual(await collect([Buffer.from('{"a":1}\n{"b"'), Buffer.from(':2}\n\n  \n{"c":3}')]), ['{"a":1}', '{"b":2}', '{"c":3}']);
});

test('a multi-byte UTF-8 character split between chunks is decoded whole', async () => {
  const line = Buffer.from('{"message":"héllo ✓"}\n');
  const cut = line.indexOf(Buffer.from('✓')) + 1; // inside the 3-byte check mark
  const [got] = await collect([line.subarray(0, cut), line.subarray(cut)]);
  assert.deepEqual(JSON.parse(got), { message: 'héllo ✓' });
});
