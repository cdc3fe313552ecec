#!/usr/bin/env node
/**
 * Bundles coxctl (dist/cli/coxctl.js and everything it requires: commander, yaml, lib/) into
 * dist/coxctl.bundle.js with esbuild. bin/coxctl.js runs the bundle when it was built after
 * the last tsc run, else the plain dist/ files: one file to read and compile instead of about
 * 150 takes coxctl's start-up from ~180 to ~120 ms of CPU (docs/performance.md). Run by
 * `npm run build`; without esbuild (an install without devDependencies) it does nothing.
 */
'use strict';
const path = require('node:path');

const root = path.join(__dirname, '..');
let esbuild;
try {
  esbuild = require('esbuild');
} catch {
  console.error('bundle-coxctl: esbuild is not installed; coxctl runs from dist/ unbundled');
  process.exit(0);
}
esbuild
  .build({
    entryPoints: [path.join(root, 'dist/cli/coxctl.js')],
    outfile: path.join(root, 'dist/coxctl.bundle.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    // Resolve node_modules where it is linked from (a worktree may link another checkout's).
    preserveSymlinks: true,
  })
  .catch(() => process.exit(1));
