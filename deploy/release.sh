#!/usr/bin/env bash
# shellcheck disable=SC2016 # the node -e script is single-quoted on purpose
# Builds a release tarball of Coxswain that runs on a host with Node 20 and no network:
# the compiled code (dist/, without tests and benchmarks), bin/, package.json, the production
# node_modules, the .proto and schema files read at run time, deploy/ and docs/deploy.md.
#
# Usage: deploy/release.sh [--out FILE] [--no-build]
#   --out FILE   where to write the tarball (default: ./coxswain-<version>.tar.gz)
#   --no-build   use dist/ as it is instead of running tsc first
# Prints the tarball's path on the last line of stdout. The tree inside the tarball is the
# install directory itself (/opt/coxswain/bin/coxswain.js is ./bin/coxswain.js).
#
# node_modules is pruned to production dependencies on a copy; the working tree is not touched.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=
build=1
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=${2:?--out needs a file}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

cd "$repo"
version=$(node -p 'require("./package.json").version')
[ -n "$out" ] || out="$PWD/coxswain-$version.tar.gz"
case $out in /*) ;; *) out="$PWD/$out" ;; esac

if [ "$build" = 1 ]; then
  echo "release: compiling TypeScript (tsc -p .)" >&2
  node node_modules/typescript/bin/tsc -p . >&2
  echo "release: bundling the dashboard (scripts/bundle-dashboard.js)" >&2
  node scripts/bundle-dashboard.js --no-check >&2
fi
[ -f dist/cli/coxswain.js ] || { echo "release: dist/cli/coxswain.js is missing: run npx tsc -p . first" >&2; exit 1; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/coxswain-release.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root="$stage/coxswain"
mkdir -p "$root"

# Compiled code without tests, benchmarks and the incremental-build state.
mkdir -p "$root/dist"
for d in dist/*/; do
  case $d in dist/test/|dist/bench/) continue ;; esac
  cp -a "$d" "$root/dist/"
done
find "$root/dist" \( -name '*.test.js' -o -name '*.test.js.map' \) -delete

cp -a bin package.json package-lock.json "$root/"
# Files the code reads next to its sources at run time (see apiserver/protobuf.ts,
# apiserver/fieldvalidation.ts, store/proto/index.ts, kubelet/api/proto.ts).
for f in apiserver/proto/*.proto apiserver/schema/*.json store/proto/*.proto kubelet/api/*.proto; do
  mkdir -p "$root/$(dirname "$f")"
  cp -a "$f" "$root/$f"
done
mkdir -p "$root/deploy" "$root/docs"
cp -a deploy/*.service deploy/node.sh deploy/coxswain.env.example "$root/deploy/"
[ -f docs/deploy.md ] && cp -a docs/deploy.md "$root/docs/"

# Production dependencies: copy the installed tree (node_modules may be a symlink) and prune
# the copy; --offline because target machines and this build may have no registry.
echo "release: copying node_modules and pruning dev dependencies" >&2
cp -a "$(readlink -f node_modules)" "$root/node_modules"
(cd "$root" && npm prune --omit=dev --offline --no-audit --no-fund --ignore-scripts >/dev/null 2>&1) \
  || { echo "release: npm prune --omit=dev failed in the staging copy" >&2; exit 1; }
rm -f "$root/node_modules/.package-lock.json.bak"

# The release id names this exact content: a re-run of the installer with the same id and
# the same settings leaves a running node alone.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | head -c1)
digest=$(cd "$root" && find . -type f ! -name RELEASE -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
echo "coxswain $version ${commit}${dirty:+-dirty} $digest" > "$root/RELEASE"

# Smoke check on the pruned tree, outside the repository: every component loads with the
# production dependencies alone, and the files read at run time are found beside dist/.
(cd "$stage/coxswain" && node -e '
  for (const m of ["apiserver", "store", "scheduler", "controllers", "kubelet", "proxy"]) require(`./dist/${m}/main.js`);
  for (const c of ["server", "agent", "token", "up"]) require(`./dist/cli/${c}.js`);
  require("./dist/store/proto/index.js");
  require("./dist/kubelet/api/proto.js").kubeletProto();
  const pb = require("./dist/apiserver/protobuf.js");
  pb.decodeProtobufObject(pb.encodeProtobufObject("v1", "Namespace", { metadata: { name: "x" } }));
  if (!require("./dist/apiserver/fieldvalidation.js").loadSchemaFile("known-fields.json")) throw new Error("known-fields.json not found");
' >/dev/null) || { echo "release: the pruned release does not load (see above)" >&2; exit 1; }

tar -czf "$out" -C "$root" .
echo "release: $(cat "$root/RELEASE") -> $out ($(du -h "$out" | cut -f1))" >&2
echo "$out"
