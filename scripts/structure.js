#!/usr/bin/env node
// Prints the structural numbers that docs/architecture.md tracks, from the
// TypeScript sources (not dist/): the word `any` in each component's non-test
// code, import cycles (type-only imports count), imports from one component
// into another (anything but lib/ and the kubelet API contract, kubelet/api/), kinds named in the apiserver's generic code,
// the longest functions of chosen files, and non-test files over 400 lines.
// Usage: node scripts/structure.js [file-for-longest-function ...]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.join(__dirname, '..');
const components = ['apiserver', 'kubelet', 'controllers', 'scheduler', 'proxy', 'store', 'cli', 'lib'];
const scanned = [...components, 'bench', 'test'];

function walk(dir, out) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}
const files = scanned.flatMap((d) => walk(path.join(root, d), []));
const rel = (f) => path.relative(root, f);
const isTest = (f) => f.endsWith('.test.ts');
const componentOf = (f) => rel(f).split(path.sep)[0];
const sources = new Map(files.map((f) => [f, ts.createSourceFile(f, fs.readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, true)]));

function resolve(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base + '.ts', path.join(base, 'index.ts')]) if (sources.has(c)) return c;
  return undefined;
}
function importsOf(sf) {
  const out = [];
  const visit = (n) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push(n.moduleSpecifier.text);
    } else if (ts.isCallExpression(n) && n.arguments.length === 1 && ts.isStringLiteral(n.arguments[0]) &&
      (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) {
      out.push(n.arguments[0].text);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      out.push(n.argument.literal.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

// 1. `any` as a type keyword in non-test code, per component.
const anyCount = {};
for (const [f, sf] of sources) {
  if (isTest(f)) continue;
  let n = 0;
  const visit = (node) => { if (node.kind === ts.SyntaxKind.AnyKeyword) n++; ts.forEachChild(node, visit); };
  visit(sf);
  anyCount[componentOf(f)] = (anyCount[componentOf(f)] ?? 0) + n;
}

// 2. Import graph, cross-component edges and cycles (Tarjan's SCCs).
const graph = new Map();
const cross = [];
for (const [f, sf] of sources) {
  const deps = [];
  for (const spec of importsOf(sf)) {
    const to = resolve(f, spec);
    if (!to) continue;
    deps.push(to);
    const a = componentOf(f), b = componentOf(to);
    const contract = rel(to).startsWith(['kubelet', 'api', ''].join(path.sep)); // the declared kubelet API contract
    if (components.includes(a) && a !== b && b !== 'lib' && !contract && !isTest(f)) cross.push(`${rel(f)} -> ${rel(to)}`);
  }
  graph.set(f, deps);
}
let index = 0;
const idx = new Map(), low = new Map(), stack = [], on = new Set(), cycles = [];
function strong(v) {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const scc = [];
    let w;
    do { w = stack.pop(); on.delete(w); scc.push(rel(w)); } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.sort());
  }
}
for (const f of graph.keys()) if (!idx.has(f)) strong(f);

// 3. Kind names compared in the apiserver's generic code (outside per-kind modules).
const kindChecks = [];
for (const [f, sf] of sources) {
  const r = rel(f);
  if (!r.startsWith('apiserver' + path.sep) || isTest(f) || r.includes(`${path.sep}groups${path.sep}`)) continue;
  const text = sf.getFullText();
  // a resource (plural) by its lower-case name, or a kind by its capitalised one
  const re = /\b(?:plural|resource)\s*[!=]==\s*'[a-z]+'|\bkind\s*[!=]==\s*'[A-Z][A-Za-z]+'/g;
  for (const m of text.matchAll(re)) {
    const line = text.slice(0, m.index).split('\n').length;
    kindChecks.push(`${r}:${line} ${m[0]}`);
  }
}

// 4. Longest functions in the named files (default: the two the renovation issue names).
function longest(f) {
  const sf = sources.get(path.resolve(root, f));
  if (!sf) return undefined;
  let best = { lines: 0, name: '' };
  const visit = (n) => {
    if (ts.isFunctionLike(n) && n.body) {
      const a = sf.getLineAndCharacterOfPosition(n.getStart()).line;
      const b = sf.getLineAndCharacterOfPosition(n.end).line;
      const name = n.name ? n.name.getText() : (ts.isVariableDeclaration(n.parent) ? n.parent.name.getText() : '(anonymous)');
      if (b - a + 1 > best.lines) best = { lines: b - a + 1, name };
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return best;
}
const longestOf = process.argv.slice(2).length ? process.argv.slice(2) : ['apiserver/rest.ts', 'kubelet/pod-manager.ts'];

// 5. Non-test files over 400 lines.
const big = [];
for (const [f, sf] of sources) {
  if (isTest(f)) continue;
  const lines = sf.getFullText().split('\n').length - 1;
  if (lines > 400) big.push(`${lines} ${rel(f)}`);
}

console.log('any (non-test, by component):', JSON.stringify(anyCount));
console.log(`import cycles: ${cycles.length}`);
for (const c of cycles) console.log('  ' + c.join(' <-> '));
console.log(`cross-component imports: ${cross.length}`);
for (const c of cross) console.log('  ' + c);
console.log(`kind names in generic apiserver code: ${kindChecks.length}`);
for (const k of kindChecks) console.log('  ' + k);
for (const f of longestOf) {
  const l = longest(f);
  console.log(`longest function in ${f}: ${l ? `${l.lines} lines (${l.name})` : 'no such file'}`);
}
console.log(`non-test files over 400 lines: ${big.length}`);
for (const b of big.sort((x, y) => parseInt(y) - parseInt(x))) console.log('  ' + b);
