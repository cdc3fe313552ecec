#!/usr/bin/env node
// Bundles the dashboard's UI (cli/dashboard/ui, Preact + xterm.js) with esbuild
// into dist/cli/dashboard/ui/ (index.html, main.js, main.css), after type-checking
// it with its own tsconfig (DOM types, JSX). Every asset is local: coxctl
// dashboard serves these files and nothing else. Run by `npm run build`,
// `prepare` and `test` after tsc. Prints the bundle's sizes.
// Usage: node scripts/bundle-dashboard.js [--no-check]
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const root = path.join(__dirname, '..');
const src = path.join(root, 'cli/dashboard/ui');
const out = path.join(root, 'dist/cli/dashboard/ui');

if (!process.argv.includes('--no-check')) {
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(src, 'tsconfig.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}

// Only the bundle's own files: tsc puts the page's DOM-free modules (format.js) and their
// unit tests beside them.
fs.mkdirSync(out, { recursive: true });
for (const f of fs.readdirSync(out)) if (/^(main\.|chunk-|index\.html)/.test(f)) fs.rmSync(path.join(out, f));
require('esbuild').buildSync({
  entryPoints: [path.join(src, 'main.tsx')],
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  splitting: true,
  chunkNames: 'chunk-[hash]',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  logLevel: 'warning',
  legalComments: 'linked',
});
fs.copyFileSync(path.join(src, 'index.html'), path.join(out, 'index.html'));

// The page loads index.html, main.js, main.css and the shared chunk at once; the
// terminal's chunk (xterm.js) only when a terminal opens.
const files = fs.readdirSync(out).filter((f) => /^(main\.|chunk-|index\.html)/.test(f) && /\.(js|css|html)$/.test(f)).sort();
let total = 0;
let totalGz = 0;
const sizes = files.map((f) => {
  const b = fs.readFileSync(path.join(out, f));
  const gz = zlib.gzipSync(b).length;
  total += b.length;
  totalGz += gz;
  return `${f} ${(b.length / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzip)`;
});
console.error(`dashboard bundle in ${path.relative(root, out)}: ${sizes.join(', ')}; total ${(total / 1024).toFixed(1)} KiB (${(totalGz / 1024).toFixed(1)} KiB gzip)`);
