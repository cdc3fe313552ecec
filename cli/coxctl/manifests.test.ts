import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { manifestFiles, parseManifests, readManifests } from './manifests';

test('multi-document YAML, empty documents skipped', () => {
  const objs = parseManifests('---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n# only a comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n', 'f.yaml');
  assert.deepEqual(
    objs.map((o) => `${o.object.kind}/${o.object.metadata?.name}@${o.source}`),
    ['Pod/a@f.yaml', 'Deployment/b@f.yaml'],
  );
});

test('JSON documents and List kinds (nested) are expanded', () => {
  const json = JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } },
      { apiVersion: 'v1', kind: 'PodList', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }] },
    ],
  });
  assert.deepEqual(
    parseManifests(json, 'x.json').map((o) => o.object.metadata?.name),
    ['s', 'p'],
  );
});

test('malformed input names its source', () => {
  assert.throws(() => parseManifests('a: [1, 2', 'bad.yaml'), /bad\.yaml/);
  assert.throws(() => parseManifests('kind: Pod\nmetadata: {name: x}\n', 'noversion.yaml'), /noversion\.yaml: apiVersion not set/);
  assert.throws(() => parseManifests('- 1\n- 2\n', 'list.yaml'), /not an object/);
});

test('folders: manifest files in name order, sub-folders only with -R; stdin as -', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coxctl-manifests-'));
  writeFileSync(path.join(dir, 'b.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n');
  writeFileSync(path.join(dir, 'a.json'), '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}');
  writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
  mkdirSync(path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'sub', 'c.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
  assert.deepEqual(
    manifestFiles(dir, false).map((f) => path.basename(f)),
    ['a.json', 'b.yaml'],
  );
  assert.deepEqual(
    manifestFiles(dir, true).map((f) => path.basename(f)),
    ['a.json', 'b.yaml', 'c.yml'],
  );
  assert.throws(() => manifestFiles(path.join(dir, 'nope'), false), /does not exist/);
  const objs = await readManifests([dir, '-'], { recursive: false, stdin: Readable.from(['apiVersion: v1\nkind: Pod\nmetadata: {name: d}\n']) });
  assert.deepEqual(
    objs.map((o) => `${o.object.metadata?.name}:${path.basename(o.source)}`),
    ['a:a.json', 'b:b.yaml', 'd:STDIN'],
  );
});
