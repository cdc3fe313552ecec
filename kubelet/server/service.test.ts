import assert from 'node:assert/strict';
import test from 'node:test';
import { netDevStats } from './service';

test('pod network stats sum every interface of the sandbox namespace but lo', () => {
  const text = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:    9000      90    0    0    0     0          0         0     9000      90    0    0    0     0       0          0',
    '  eth0:    1500      12    1    0    0     0          0         0      700       8    2    0    0     0       0          0',
    '  net1:     100       1    0    0    0     0          0         0       50       1    0    0    0     0       0          0',
  ].join('\n');
  assert.deepEqual(netDevStats(text), { rx_bytes: 1600, tx_bytes: 750, rx_errors: 1, tx_errors: 2 });
  assert.deepEqual(netDevStats(''), { rx_bytes: 0, tx_bytes: 0, rx_errors: 0, tx_errors: 0 });
});
