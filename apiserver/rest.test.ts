import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseApiPath } from './rest';

test('API paths', () => {
  assert.deepEqual(parseApiPath('/apis/apps/v1/namespaces/d/deployments/web/scale'), { group: 'apps', version: 'v1', namespace: 'd', resource: 'deployments', name: 'web', subresource: 'scale' });
  assert.deepEqual(parseApiPath('/api/v1/namespaces/foo/status'), { group: '', version: 'v1', resource: 'namespaces', name: 'foo', subresource: 'status' });
  assert.deepEqual(parseApiPath('/api/v1/watch/namespaces/d/pods'), { group: '', version: 'v1', watchPath: true, namespace: 'd', resource: 'pods', name: undefined, subresource: undefined });
});
