import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userAgent } from './user-agent';

test('the User-Agent names the component and the process', () => {
  assert.equal(userAgent(['/usr/bin/node', '/opt/coxswain/dist/cli/coxswain.js', 'scheduler', '--leader-elect'], 1234, 'linux', '0.1.0'), 'coxswain-scheduler/0.1.0 (linux; pid 1234)');
  assert.equal(userAgent(['node', '/usr/local/bin/coxswain', 'controllers'], 7, 'linux', '0.1.0'), 'coxswain-controllers/0.1.0 (linux; pid 7)');
  assert.equal(userAgent(['node', '/x/bin/coxctl.js', 'get', 'pods'], 7, 'linux', '0.1.0'), 'coxctl/0.1.0 (linux; pid 7)');
  assert.equal(userAgent(['node', '/x/dist/test/e2e.test.js'], 7, 'linux', '0.1.0'), 'coxswain/0.1.0 (linux; pid 7)', 'anything else: a sensible default');
  assert.equal(userAgent(['node', '/x/coxswain.js', '--help'], 7, 'linux', '0.1.0'), 'coxswain/0.1.0 (linux; pid 7)');
  assert.match(userAgent(), /^[a-z-]+\/\d+\.\d+\.\d+ \(\w+; pid \d+\)$/);
});
