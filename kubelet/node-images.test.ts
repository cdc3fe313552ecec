import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeStatusImages } from './node-images';

test('nodeStatusImages: largest first, digests then tags, at most 5 names, dangling images left out, capped', () => {
  const images = [
    { id: 'sha256:a', tags: ['busybox:1.36'], digests: ['busybox@sha256:1'], sizeBytes: 4_000_000 },
    { id: 'sha256:b', tags: ['node:20-bookworm-slim'], sizeBytes: 200_000_000 },
    { id: 'sha256:c', tags: [], sizeBytes: 900_000_000 },
    { id: 'sha256:d', tags: ['a:1', 'a:2', 'a:3', 'a:4', 'a:5'], digests: ['a@sha256:9'], sizeBytes: 1_000 },
  ];
  assert.deepEqual(nodeStatusImages(images), [
    { names: ['node:20-bookworm-slim'], sizeBytes: 200_000_000 },
    { names: ['busybox@sha256:1', 'busybox:1.36'], sizeBytes: 4_000_000 },
    { names: ['a@sha256:9', 'a:1', 'a:2', 'a:3', 'a:4'], sizeBytes: 1_000 },
  ]);
  assert.deepEqual(nodeStatusImages(images, 1).map((i) => i.names?.[0]), ['node:20-bookworm-slim']);
  assert.deepEqual(nodeStatusImages([]), []);
});
