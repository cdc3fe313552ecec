import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerDemuxer, dockerFrame, dockerLogOptions } from './streams';

test('log options map onto Docker logs options', () => {
  assert.deepEqual(dockerLogOptions({}), { follow: false, stdout: true, stderr: true, timestamps: false, tail: 'all' });
  assert.deepEqual(dockerLogOptions({ follow: true, timestamps: true, tailLines: 5 }), { follow: true, stdout: true, stderr: true, timestamps: true, tail: 5 });
  assert.equal(dockerLogOptions({ tailLines: 0 }).tail, 0);
  assert.equal(dockerLogOptions({ tailLines: -1 }).tail, 'all');
  assert.equal(dockerLogOptions({ sinceUnix: 1700000000 }).since, '1700000000');
  assert.equal(dockerLogOptions({ sinceUnix: 1700000000.5 }).since, '1700000000.500000000');
  assert.equal(dockerLogOptions({ sinceUnix: 0 }).since, undefined);
});

test('the demuxer splits frames across arbitrary chunk boundaries', () => {
  const all = Buffer.concat([dockerFrame(1, 'hello\n'), dockerFrame(2, 'oops\n'), dockerFrame(1, ''), dockerFrame(1, 'x'.repeat(70_000))]);
  for (const step of [1, 3, 7, 8, 9, 100, all.length]) {
    const d = new DockerDemuxer();
    const frames: { stream: number; data: string }[] = [];
    for (let i = 0; i < all.length; i += step) for (const f of d.push(all.subarray(i, i + step))) frames.push({ stream: f.stream, data: f.data.toString() });
    // consecutive same-stream frames may come split; compare per stream
    assert.equal(frames.filter((f) => f.stream === 1).map((f) => f.data).join(''), 'hello\n' + 'x'.repeat(70_000), `step ${step}`);
    assert.equal(frames.filter((f) => f.stream === 2).map((f) => f.data).join(''), 'oops\n');
    assert.equal(d.pending, 0);
  }
});
