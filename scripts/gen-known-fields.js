#!/usr/bin/env node
/**
 * Generates, from kubernetes-types' .d.ts files (field names, types, optionality) and
 * @kubernetes/client-node's models (integer formats), both dev dependencies:
 *
 *   apiserver/schema/known-fields.json — every built-in type's fields and their types, for
 *     `fieldValidation` (unknown fields) and the decoder's type check (fieldvalidation.ts);
 *   apiserver/schema/openapi-types.json — the required fields of the types of the
 *     groups the apiserver serves, from which openapi.ts builds /openapi/v3 (kubectl explain).
 *     Kubernetes' field descriptions are deliberately not copied: explain shows names and types.
 *
 * Run after upgrading kubernetes-types: `node scripts/gen-known-fields.js`.
 *
 * Type codes: "s" string, "b" boolean, "i32"/"i64" integers, "f" float, "n" any number, "x"
 * IntOrString, "q" Quantity, "t" Time/MicroTime (RFC 3339 string), "a" anything (RawExtension,
 * FieldsV1, free JSON), "<dir>/<version>.<Type>" a nested object, "[]<type>" a list, "{}<type>" a map.
 */
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');
const clientNode = require('@kubernetes/client-node');

const ROOT = path.dirname(require.resolve('kubernetes-types/package.json'));
const FREE = new Set(['runtime.RawExtension', 'meta/v1.FieldsV1', 'apiextensions/v1.JSON', 'apiextensions/v1.JSONSchemaProps']);
/** Groups (kubernetes-types folders) whose types /openapi/v3 describes. */
const SERVED_DIRS = ['core', 'apps', 'batch', 'networking', 'discovery', 'autoscaling', 'coordination', 'storage', 'policy', 'rbac', 'authorization', 'authentication', 'certificates', 'meta'];

const files = [];
(function scan(dir) {
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isDirectory()) scan(p);
    else if (f.endsWith('.d.ts')) files.push(p);
  }
})(ROOT);

/** client-node model of a kubernetes-types type: CoreV1EndpointPort, then V1EndpointPort. */
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
function clientModel(mod, name) {
  const [dir, version] = mod.split('/');
  for (const n of [`${cap(dir)}${cap(version ?? '')}${name}`, `${cap(version ?? '')}${name}`]) {
    if (clientNode[n]?.attributeTypeMap) return Object.fromEntries(clientNode[n].attributeTypeMap.map((a) => [a.baseName, a.format]));
  }
  return {};
}
const numberCode = (fmt) => (fmt === 'int32' ? 'i32' : fmt === 'int64' ? 'i64' : fmt === 'double' ? 'f' : 'n');

const out = {};
const docs = {};
for (const file of files) {
  const mod = path.relative(ROOT, file).replace(/\.d\.ts$/, '');
  const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const imports = new Map(); // local name → module
  const aliases = new Map(); // type alias → resolved
  for (const st of src.statements) {
    if (ts.isImportDeclaration(st)) {
      const from = path.relative(ROOT, path.resolve(path.dirname(file), st.moduleSpecifier.text));
      for (const el of st.importClause?.namedBindings?.elements ?? []) imports.set(el.name.text, from);
    }
  }
  const resolve = (node, fmt) => {
    if (!node) return 'a';
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword: case ts.SyntaxKind.LiteralType: return 's';
      case ts.SyntaxKind.BooleanKeyword: return 'b';
      case ts.SyntaxKind.NumberKeyword: return numberCode(fmt);
      case ts.SyntaxKind.UnionType: {
        const parts = [...new Set(node.types.map((t) => resolve(t, fmt)))];
        if (parts.length === 1) return parts[0];
        if (parts.length === 2 && parts.includes('s') && parts.some((p) => ['i32', 'i64', 'n'].includes(p))) return 'x';
        return 'a';
      }
      case ts.SyntaxKind.ArrayType: return `[]${resolve(node.elementType, fmt)}`;
      case ts.SyntaxKind.TypeLiteral: {
        const idx = node.members.find((m) => ts.isIndexSignatureDeclaration(m));
        return idx ? `{}${resolve(idx.type, fmt)}` : 'a';
      }
      case ts.SyntaxKind.TypeReference: {
        const name = node.typeName.getText(src);
        if (name === 'Array') return `[]${resolve(node.typeArguments?.[0], fmt)}`;
        if (name === 'Record') return `{}${resolve(node.typeArguments?.[1], fmt)}`;
        if (name === 'Quantity') return 'q';
        if (name === 'Time' || name === 'MicroTime') return 't';
        if (name === 'IntOrString') return 'x';
        const full = `${imports.get(name) ?? mod}.${name}`;
        if (FREE.has(full)) return 'a';
        return full;
      }
      default: return 'a';
    }
  };
  const served = SERVED_DIRS.includes(mod.split('/')[0]);
  for (const st of src.statements) {
    if (ts.isTypeAliasDeclaration(st)) aliases.set(st.name.text, resolve(st.type));
    if (!ts.isInterfaceDeclaration(st)) continue;
    const fields = {};
    const formats = clientModel(mod, st.name.text);
    const d = { required: [] };
    for (const m of st.members) {
      if (!ts.isPropertySignature(m) || !m.name) continue;
      const f = m.name.getText(src).replace(/^"|"$/g, '');
      fields[f] = resolve(m.type, formats[f]);
      if (!m.questionToken) d.required.push(f);
    }
    out[`${mod}.${st.name.text}`] = fields;
    if (served) docs[`${mod}.${st.name.text}`] = d;
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
for (const k of FREE) { delete out[k]; delete docs[k]; }
const dir = path.join(__dirname, '..', 'apiserver', 'schema');
for (const [name, data] of [['known-fields.json', out], ['openapi-types.json', docs]]) {
  const target = path.join(dir, name);
  fs.writeFileSync(target, JSON.stringify(data) + '\n');
  console.log(`wrote ${Object.keys(data).length} types to ${path.relative(process.cwd(), target)} (${fs.statSync(target).size} bytes)`);
}
