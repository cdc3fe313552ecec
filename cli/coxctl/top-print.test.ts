import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, formatTopNodes, formatTopPods, nanoCores } from './top-print';
import { tabwrite } from './tabwriter';

test('tabwriter pads each column block to its widest cell + 3 (at least 6), trailing tab included', () => {
  assert.equal(tabwrite('NAME\tCPU(cores)\t\nweb-123456789\t1m\t\n'), 'NAME            CPU(cores)   \nweb-123456789   1m           \n');
  // a line with more cells starts a block of its own for the extra columns
  assert.equal(tabwrite('a\tb\t\nc\td\te\tf\t\n'), 'a     b     \nc     d     e     f     \n');
  assert.equal(tabwrite('no tabs\n'), 'no tabs\n');
});

test('quantities: CPU exact in nanocores, memory in bytes', () => {
  assert.equal(nanoCores('123456n'), 123456);
  assert.equal(nanoCores('2m'), 2_000_000);
  assert.equal(nanoCores('1.5'), 1_500_000_000);
  assert.equal(nanoCores('0'), 0);
  assert.equal(bytes('1234Ki'), 1234 * 1024);
  assert.equal(bytes('2Gi'), 2 * 2 ** 30);
  assert.equal(bytes('1k'), 1000);
  assert.throws(() => nanoCores('abc'), /invalid quantity "abc"/);
});

test('top nodes: millicores rounded up, MiB rounded down, % of allocatable truncated, missing nodes as <unknown>', () => {
  const out = formatTopNodes(
    [{ metadata: { name: 'n2' }, usage: { cpu: '250000001n', memory: '1048575Ki' } }, { metadata: { name: 'n1' }, usage: { cpu: '0', memory: '4096Ki' } }],
    new Map([['n1', { cpu: '2', memory: '8Gi' }], ['n2', { cpu: '2', memory: '8Gi' }], ['hollow-0', { cpu: '4', memory: '16Gi' }]]),
  );
  assert.equal(out, [
    'NAME       CPU(cores)   CPU(%)      MEMORY(bytes)   MEMORY(%)   ',
    'n1         0m           0%          4Mi             0%          ',
    'n2         251m         12%         1023Mi          12%         ',
    'hollow-0   <unknown>    <unknown>   <unknown>       <unknown>   ',
    '',
  ].join('\n'));
  assert.equal(formatTopNodes([], new Map()), '');
});

test('top pods: container sums per pod; --containers, -A, --sort-by, --no-headers, --sum', () => {
  const pods = [
    { metadata: { name: 'idle', namespace: 'b' }, containers: [{ name: 'c', usage: { cpu: '10n', memory: '3Mi' } }] },
    { metadata: { name: 'busy', namespace: 'a' }, containers: [{ name: 'z', usage: { cpu: '999000u', memory: '1Mi' } }, { name: 'y', usage: { cpu: '500001n', memory: '1536Ki' } }] },
  ];
  // busy: 999500001n → 1000m (the sum is rounded up, not each container); 2.5 MiB → 2Mi
  assert.deepEqual(formatTopPods(pods).split('\n'), ['NAME   CPU(cores)   MEMORY(bytes)   ', 'busy   1000m        2Mi             ', 'idle   1m           3Mi             ', '']);
  assert.deepEqual(formatTopPods(pods, { allNamespaces: true, containers: true, sortBy: 'memory' }).split('\n'), [
    'NAMESPACE   POD    NAME   CPU(cores)   MEMORY(bytes)   ',
    'b           idle   c      1m           3Mi             ',
    'a           busy   y      1m           1Mi             ',
    'a           busy   z      999m         1Mi             ',
    '',
  ]);
  assert.deepEqual(formatTopPods(pods, { containers: true }).split('\n'), [
    'POD    NAME   CPU(cores)   MEMORY(bytes)   ',
    'busy   y      1m           1Mi             ',
    'busy   z      999m         1Mi             ',
    'idle   c      1m           3Mi             ',
    '',
  ]);
  assert.deepEqual(formatTopPods(pods, { noHeaders: true, sortBy: 'cpu' }).split('\n'), ['busy   1000m   2Mi   ', 'idle   1m      3Mi   ', '']);
  assert.deepEqual(formatTopPods(pods, { sum: true }).split('\n'), [
    'NAME   CPU(cores)   MEMORY(bytes)   ',
    'busy   1000m        2Mi             ',
    'idle   1m           3Mi             ',
    '       ________     ________        ',
    '       1000m        5Mi             ',
    '',
  ]);
  assert.equal(formatTopPods([]), '');
});
