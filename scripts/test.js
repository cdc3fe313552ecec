#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node's test runner:
// unit tests first (fast, pure), then the cross-process tests in dist/test/,
// one file at a time, since those start real clusters and Docker containers.
// Usage: node scripts/test.js [substring-filter ...]
'use strict';
const { spawnSync } = require('node:child_process');
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
const files = [...unit, ...e2e];
if (files.length === 0) {
  console.error('no test files found under dist/ (did tsc run?)');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
