#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node's test runner:
// unit tests first (fast, pure), then the cross-process tests in dist/test/,
// one file at a time, since those start real clusters and Docker containers
// (with a second lane for the ones that touch neither Docker nor the host).
// Usage: node scripts/test.js [substring-filter ...]
'use strict';
const { spawn } = require('node:child_process');
const os = require('node:os');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', 'dist');
function walk(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const all = walk(root, []).sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
const e2e = all.filter((f) => f.startsWith(path.join(root, 'test') + path.sep));
const unit = all.filter((f) => !e2e.includes(f));

// The cross-process tests run one file at a time, since most start real clusters, Docker
// containers, pod bridges and addresses on lo. The files that start no Docker container and
// change nothing on the host (store replicas, etcd, apiservers on loopback ports of their own,
// network namespaces of their own) run in a second lane beside them: CI has two cores and the
// Docker lane mostly waits on containers. COXSWAIN_TEST_LANES=1 runs everything in one lane.
// (Two lanes were opt-in for a while: an in-pod call through the kubernetes ClusterIP hung in
// kubectl-acceptance, more often beside the second lane. That was the pod bridge changing its
// MAC under running pods, fixed in the kubelet; the load only made it likelier.)
// (Not store-etcdctl: its `etcdctl check perf` fails on a 500 ms slowest request, which the
// Docker lane beside it can cause.)
const SIDE_LANE = /^(store-(?!etcdctl)|apiserver-|coxctl|deploy-units|kubectl-kinds|leader-election|scheduler-(queue|kill9|leader))[^/]*\.test\.js$/;
const lanes = process.env.COXSWAIN_TEST_LANES === '1' ? 1 : 2;
const side = lanes === 2 ? e2e.filter((f) => SIDE_LANE.test(path.basename(f))) : [];
const main = [...unit, ...e2e.filter((f) => !side.includes(f))];
if (main.length + side.length === 0) {
  console.error('no test files found under dist/ (did tsc run?)');
  process.exit(1);
}
const args = (files) => ['--test', '--test-reporter=spec', '--test-concurrency=1', ...files];

function run(files, opts) {
  return new Promise((resolve) => {
    if (files.length === 0) return resolve(0);
    const child = spawn(process.execPath, args(files), opts);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

(async () => {
  // The side lane's report goes to a file and is printed after the main lane's, so the two
  // never interleave.
  const sideLog = path.join(os.tmpdir(), `coxswain-test-side-lane-${process.pid}.log`);
  const out = side.length ? fs.openSync(sideLog, 'w') : undefined;
  const sideDone = run(side, { stdio: ['ignore', out, out] });
  const mainCode = await run(main, { stdio: 'inherit' });
  const sideCode = await sideDone;
  if (out !== undefined) {
    fs.closeSync(out);
    process.stdout.write(`\n== side lane (${side.map((f) => path.basename(f)).join(', ')}) ==\n`);
    process.stdout.write(fs.readFileSync(sideLog));
    fs.rmSync(sideLog, { force: true });
  }
  process.exit(mainCode || sideCode);
})();
