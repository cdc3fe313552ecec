#!/usr/bin/env node
/**
 * Generates apiserver/schema/known-fields.json — the field names of every built-in kind the
 * apiserver serves, for `fieldValidation` (unknown fields) — from kubernetes-types' .d.ts
 * files. Run after upgrading kubernetes-types: `node scripts/gen-known-fields.js`.
 *
 * Format: { "<dir>/<version>.<Type>": { "<field>": "<type>" } } where a type is
 *   "s" string/number/boolean (any scalar), "a" anything (RawExtension, FieldsV1, free JSON),
 *   "<dir>/<version>.<Type>" a nested object, "[]<type>" a list, "{}<type>" a map.
 */
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const ROOT = path.dirname(require.resolve('kubernetes-types/package.json'));
const FREE = new Set(['runtime.RawExtension', 'meta/v1.FieldsV1', 'apiextensions/v1.JSON', 'apiextensions/v1.JSONSchemaProps']);
const files = [];
(function scan(dir) {
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isDirectory()) scan(p);
    else if (f.endsWith('.d.ts')) files.push(p);
  }
})(ROOT);

const out = {};
for (const file of files) {
  const mod = path.relative(ROOT, file).replace(/\.d\.ts$/, '');
  const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const imports = new Map(); // local name → module
  const aliases = new Map(); // type alias → resolved
  for (const st of src.statements) {
    if (ts.isImportDeclaration(st)) {
      const from = path.relative(ROOT, path.resolve(path.dirname(file), st.moduleSpecifier.text));
      for (const el of st.importClause?.namedBindings?.elements ?? []) imports.set(el.name.text, from);
    }
  }
  const resolve = (node) => {
    if (!node) return 'a';
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword: case ts.SyntaxKind.NumberKeyword: case ts.SyntaxKind.BooleanKeyword: case ts.SyntaxKind.LiteralType: return 's';
      case ts.SyntaxKind.UnionType: {
        const parts = [...new Set(node.types.map(resolve))];
        return parts.length === 1 ? parts[0] : parts.every((p) => p === 's') ? 's' : 'a';
      }
      case ts.SyntaxKind.ArrayType: return `[]${resolve(node.elementType)}`;
      case ts.SyntaxKind.TypeLiteral: {
        const idx = node.members.find((m) => ts.isIndexSignatureDeclaration(m));
        return idx ? `{}${resolve(idx.type)}` : 'a';
      }
      case ts.SyntaxKind.TypeReference: {
        const name = node.typeName.getText(src);
        if (name === 'Array') return `[]${resolve(node.typeArguments?.[0])}`;
        if (name === 'Record') return `{}${resolve(node.typeArguments?.[1])}`;
        if (['Quantity', 'Time', 'MicroTime'].includes(name)) return 's';
        const full = `${imports.get(name) ?? mod}.${name}`;
        if (FREE.has(full)) return 'a';
        return full;
      }
      default: return 'a';
    }
  };
  for (const st of src.statements) {
    if (ts.isTypeAliasDeclaration(st)) aliases.set(st.name.text, resolve(st.type));
    if (!ts.isInterfaceDeclaration(st)) continue;
    const fields = {};
    for (const m of st.members) {
      if (ts.isPropertySignature(m) && m.name) fields[m.name.getText(src).replace(/^"|"$/g, '')] = resolve(m.type);
    }
    out[`${mod}.${st.name.text}`] = fields;
  }
  // references to local type aliases resolve to what they alias
  for (const [k, fields] of Object.entries(out)) {
    if (!k.startsWith(`${mod}.`)) continue;
    for (const [f, t] of Object.entries(fields)) {
      const m = t.match(/^((?:\[\]|\{\})*)(.*)$/);
      const alias = m[2].startsWith(`${mod}.`) ? aliases.get(m[2].slice(mod.length + 1)) : undefined;
      if (alias) fields[f] = m[1] + alias;
    }
  }
}
for (const k of FREE) delete out[k];
const target = path.join(__dirname, '..', 'apiserver', 'schema', 'known-fields.json');
fs.writeFileSync(target, JSON.stringify(out) + '\n');
console.log(`wrote ${Object.keys(out).length} types to ${path.relative(process.cwd(), target)} (${fs.statSync(target).size} bytes)`);
