#!/usr/bin/env node
'use strict';
// dist/coxctl.bundle.js (scripts/bundle-coxctl.js) starts faster than the ~150 files under
// dist/; it is used only when it was built after tsc last wrote dist/, so it is never stale.
const { statSync } = require('node:fs');
const path = require('node:path');

function bundleIsFresh() {
  try {
    const dist = path.join(__dirname, '../dist');
    return statSync(path.join(dist, 'coxctl.bundle.js')).mtimeMs >= statSync(path.join(dist, '.tsbuildinfo')).mtimeMs;
  } catch {
    return false;
  }
}

require(bundleIsFresh() ? '../dist/coxctl.bundle.js' : '../dist/cli/coxctl.js');
