import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changesIdentity, createMergePatch, editHeader, hasContent, isEmptyPatch, stripComments } from './edit-core';
import { editorCommand } from './edit';

test("the header, with the reasons of a failed save as kubectl writes them", () => {
  assert.equal(
    editHeader([{ head: 'deployments.apps "web" was not valid', other: ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'] }]),
    "# Please edit the object below. Lines beginning with a '#' will be ignored,\n" +
      '# and an empty file will abort the edit. If an error occurs while saving this file will be\n' +
      '# reopened with the relevant failures.\n#\n' +
      '# deployments.apps "web" was not valid:\n# * spec.replicas: Invalid value: -1: must be greater than or equal to 0\n#\n',
  );
  assert.match(editHeader([{ head: 'The edited file had a syntax error: a\nb', other: [] }]), /# The edited file had a syntax error: a\n# b\n#\n$/);
});

test('comments and emptiness', () => {
  assert.equal(stripComments('# a\n  # b\n#!keep\nx: 1\n'), '#!keep\nx: 1\n');
  assert.equal(hasContent('# only\n\n   \n'), false);
  assert.equal(hasContent('# c\nx: 1'), true);
});

test('merge patch: changed keys, removed keys as null, lists whole', () => {
  const from = { metadata: { name: 'web', labels: { a: '1', b: '2' } }, spec: { replicas: 2, list: [1, 2] } };
  const to = { metadata: { name: 'web', labels: { a: '1', c: '3' } }, spec: { replicas: 1, list: [1, 2] } };
  assert.deepEqual(createMergePatch(from, to), { metadata: { labels: { b: null, c: '3' } }, spec: { replicas: 1 } });
  assert.ok(isEmptyPatch(createMergePatch(from, structuredClone(from))));
  assert.deepEqual(createMergePatch({ l: [1] }, { l: [1, 2] }), { l: [1, 2] });
  assert.equal(changesIdentity(createMergePatch(from, { ...from, metadata: { ...from.metadata, name: 'x' } })), true);
  assert.equal(changesIdentity(createMergePatch(from, { ...from, kind: 'Pod' })), true);
  assert.equal(changesIdentity(createMergePatch(from, to)), false);
});

test("the editor command: KUBE_EDITOR, then EDITOR, then vi; words split; quotes through the shell", () => {
  assert.deepEqual(editorCommand({}, '/f'), { cmd: 'vi', args: ['/f'] });
  assert.deepEqual(editorCommand({ EDITOR: 'nano', KUBE_EDITOR: 'code --wait' }, '/f'), { cmd: 'code', args: ['--wait', '/f'] });
  assert.deepEqual(editorCommand({ EDITOR: "sed -i 's/a/b/'", SHELL: '/bin/sh' }, '/f'), { cmd: '/bin/sh', args: ['-c', `sed -i 's/a/b/' "/f"`] });
});
