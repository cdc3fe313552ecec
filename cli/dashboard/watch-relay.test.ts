import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWatchPath } from './watch-relay';

test('only watches of API collections are relayed', () => {
  assert.equal(isWatchPath('/api/v1/pods?watch=1&resourceVersion=5'), true);
  assert.equal(isWatchPath('/apis/apps/v1/namespaces/x/deployments?allowWatchBookmarks=true&watch=true'), true);
  assert.equal(isWatchPath('/api/v1/pods'), false);
  assert.equal(isWatchPath('/api/v1/pods?watch=0'), false);
  assert.equal(isWatchPath('/healthz?watch=1'), false);
  assert.equal(isWatchPath('http://evil.example/api/v1/pods?watch=1'), false);
  assert.equal(isWatchPath('//evil.example/api/v1/pods?watch=1'), false);
});
