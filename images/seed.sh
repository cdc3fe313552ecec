#!/usr/bin/env bash
# Seeds the local Docker engine with stand-ins for the public images Coxswain's
# manifests and Dockerfile name, built only from this machine's Debian packages,
# so everything runs with no registry:
#   busybox:1.36                 Debian's busybox-static with every applet linked
#   registry.k8s.io/pause:3.10   a static pause binary (images/pause/pause.c)
#   node:20-bookworm-slim        this machine's node + npm and the libraries they load
# Real users pull the real images; this script is for offline machines and CI.
# Idempotent: an image that already exists is left alone unless --force is given.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
force=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have() { [ "$force" != "--force" ] && docker image inspect "$1" >/dev/null 2>&1; }

need_busybox() {
  if [ ! -x /bin/busybox ] || ! /bin/busybox --list >"$work/applets" || ! grep -qx httpd "$work/applets"; then
    echo "images: installing busybox-static from Debian" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
  fi
}

# A root filesystem skeleton with /etc/passwd, /etc/group and /tmp.
skeleton() {
  local root=$1
  mkdir -p "$root"/{bin,etc,tmp,root,proc,sys,dev,var/run}
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

if have busybox:1.36; then
  echo "images: busybox:1.36 present"
else
  need_busybox
  root=$work/busybox
  skeleton "$root"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  mkdir -p "$root/usr/bin" "$root/sbin" "$root/usr/sbin"
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["sh"]' - busybox:1.36 >/dev/null
  echo "images: built busybox:1.36"
fi

if have registry.k8s.io/pause:3.10; then
  echo "images: registry.k8s.io/pause:3.10 present"
else
  root=$work/pause
  mkdir -p "$root"
  if command -v gcc >/dev/null 2>&1 && gcc -static -O2 -o "$root/pause" "$here/pause/pause.c" 2>/dev/null; then
    :
  else
    echo "images: no static C toolchain; using busybox sleep as the pause process" >&2
    need_busybox
    cp /bin/busybox "$root/busybox"
    printf '#!/busybox sh\ntrap "exit 0" TERM INT\nwhile :; do /busybox sleep 3600 & wait $!; done\n' >"$root/pause"
    chmod +x "$root/pause"
  fi
  tar -C "$root" -c . | docker import -c 'ENTRYPOINT ["/pause"]' - registry.k8s.io/pause:3.10 >/dev/null
  echo "images: built registry.k8s.io/pause:3.10"
fi

if have node:20-bookworm-slim; then
  echo "images: node:20-bookworm-slim present"
else
  need_busybox
  node_bin=$(command -v node)
  node_bin=$(readlink -f "$node_bin")
  npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
  root=$work/node
  skeleton "$root"
  mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/usr/bin" "$root/etc/ssl/certs"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  ln -sf /bin/busybox "$root/usr/bin/env"
  cp "$node_bin" "$root/usr/local/bin/node"
  cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # The shared libraries node loads, at the same paths.
  for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+\.so[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  # The kubelet wires pods with iproute2 and iptables (busybox's ip has no -batch/-j):
  # this machine's binaries, their libraries and iptables' extension modules.
  copy_with_libs() {
    mkdir -p "$root$(dirname "$2")"
    cp -L "$1" "$root$2"
    for lib in $(ldd "$1" | grep -oE '/[^ ]+\.so[^ ]*'); do
      mkdir -p "$root$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    done
  }
  if command -v ip >/dev/null && ip -V 2>&1 | grep -q iproute2; then copy_with_libs "$(command -v ip)" /usr/sbin/ip; fi
  xt=$(readlink -f "$(command -v iptables 2>/dev/null || true)" 2>/dev/null || true)
  if [ -n "$xt" ] && [ -x "$xt" ]; then
    copy_with_libs "$xt" "/usr/sbin/$(basename "$xt")"
    ln -sf "$(basename "$xt")" "$root/usr/sbin/iptables"
    for dir in /usr/lib/x86_64-linux-gnu/xtables /usr/lib/aarch64-linux-gnu/xtables /usr/lib/xtables; do
      [ -d "$dir" ] && mkdir -p "$root$dir" && cp -a "$dir/." "$root$dir/"
    done
    for mod in "$root"/usr/lib/*/xtables/*.so; do
      [ -f "$mod" ] || continue
      for lib in $(ldd "$mod" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*'); do
        [ -f "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
      done
    done
  fi
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV NODE_VERSION=20' \
    -c 'CMD ["node"]' - node:20-bookworm-slim >/dev/null
  echo "images: built node:20-bookworm-slim"
fi
