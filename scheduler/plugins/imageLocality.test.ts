import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { ImageLocality, imageScore, normalizedImageName } from './imageLocality';
import { mkInfo, mkNode, mkPod, scoresOf } from '../testutil';

const MB = 1024 * 1024;

function withImages(name: string, images: [string[], number][]): Node {
  const n = mkNode(name);
  n.status!.images = images.map(([names, sizeBytes]) => ({ names, sizeBytes }));
  return n;
}

function podWith(...images: string[]): Pod {
  const p = mkPod('p');
  p.spec!.containers = images.map((image, i) => ({ name: `c${i}`, image }));
  return p;
}

test('normalizedImageName: table', () => {
  const cases: [string, string][] = [
    ['busybox', 'busybox:latest'],
    ['busybox:1.36', 'busybox:1.36'],
    ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['repo@sha256:abc', 'repo@sha256:abc'],
  ];
  for (const [name, want] of cases) assert.equal(normalizedImageName(name), want, name);
});

test('imageScore: 23 MB floor, 1000 MB per container ceiling, table', () => {
  const cases: [number, number, number][] = [
    [0, 1, 0],
    [23 * MB, 1, 0],
    [1000 * MB, 1, 100],
    [5000 * MB, 1, 100],
    [(23 + 977 / 2) * MB, 1, 50],
    [1000 * MB, 2, Math.floor((100 * 977) / 1977)],
    [100 * MB, 0, 0],
  ];
  for (const [sum, containers, want] of cases) assert.equal(imageScore(sum, containers), want, `${sum / MB}MB/${containers}`);
});

test('ImageLocality: image sizes on the node, scaled by how many nodes have them, table', () => {
  const big: [string[], number] = [['app:v1', 'repo/app@sha256:1'], 800 * MB];
  const side: [string[], number] = [['sidecar:v1'], 300 * MB];
  const nodes = [
    mkInfo(withImages('both', [big, side])),
    mkInfo(withImages('big', [big])),
    mkInfo(withImages('none', [])),
    mkInfo(mkNode('unreported')),
  ];
  // app:v1 on 2 of 4 nodes → 400 MB counted; sidecar on 1 of 4 → 75 MB.
  const two = (mb: number) => Math.floor((100 * (mb - 23) * MB) / ((2000 - 23) * MB));
  const cases: [string, Pod, number[]][] = [
    ['one image', podWith('app:v1'), [Math.floor((100 * 377) / 977), Math.floor((100 * 377) / 977), 0, 0]],
    ['two containers', podWith('app:v1', 'sidecar:v1'), [two(475), two(400), 0, 0]],
    ['by digest', podWith('repo/app@sha256:1'), [38, 38, 0, 0]],
    ['untagged means latest', podWith('app'), [0, 0, 0, 0]],
    ['image nowhere', podWith('other:v1'), [0, 0, 0, 0]],
  ];
  for (const [name, pod, want] of cases) assert.deepEqual(scoresOf(ImageLocality, pod, nodes), want, name);
  const everywhere = [mkInfo(withImages('a', [big])), mkInfo(withImages('b', [big]))];
  assert.deepEqual(scoresOf(ImageLocality, podWith('app:v1'), everywhere), [79, 79], 'an image on every node counts its full size');
  const init = podWith('other:v1');
  init.spec!.initContainers = [{ name: 'i', image: 'app:v1' }];
  const initScore = Math.floor((100 * (800 - 23)) / (2000 - 23));
  assert.deepEqual(scoresOf(ImageLocality, init, everywhere), [initScore, initScore], 'init containers count too');
  assert.equal(ImageLocality.weight, 1);
});
