#!/usr/bin/env bash
# shellcheck disable=SC2016 # scripts for bash -c are single-quoted on purpose
# Installs a Coxswain cluster on hosts reachable over SSH, from a checkout of this repository.
#
#   deploy/install.sh --server root@10.0.0.11 --server root@10.0.0.12 --server root@10.0.0.13 \
#                     --agent root@10.0.0.14 [--ssh-opts '-i key -o ...']
#
# Builds one release tarball here (deploy/release.sh), streams it to every host over SSH,
# installs it at /opt/coxswain, writes /etc/coxswain/coxswain.env and starts the node: the
# systemd unit when systemd is PID 1 on the host, else `coxswain server|agent` with nohup.
# The first --server creates the cluster; once it is ready its join token is read over SSH
# and the other servers and the agents join it in parallel. The admin kubeconfig is copied
# to ./coxswain-kubeconfig. Targets need Node 20.19+, Docker, iproute2 and iptables, and root
# (log in as root, or as a user with password-less sudo). No network access is needed on them.
#
# Re-running is safe: a host whose installed release and settings are unchanged and whose
# node is running is left alone; any other is reinstalled and restarted (servers that were
# installed before one at a time, so the store keeps a majority). Add a host later by
# re-running with the same list plus the new host. Needs bash 4+, ssh and tar here.
#
# Options (before the first target: for every host; after a target: for that host only):
#   --prefix DIR        install directory                    (/opt/coxswain)
#   --etc-dir DIR       where coxswain.env goes               (/etc/coxswain)
#   --home DIR          COXSWAIN_HOME, the node's state       (/var/lib/coxswain)
#   --log-dir DIR       log and pid file when not run by systemd (/var/log/coxswain)
#   --docker-host URL   the host's Docker engine              (unix:///var/run/docker.sock)
#   --mode M            auto | systemd | nohup                (auto)
#   --extra-flags "F"   more flags for `coxswain server|agent`, e.g. "--tls-san api.example.com"
# For one host only (after its target):
#   --node-ip IP        the address other hosts reach it at   (the target's address when it is
#                       an IPv4 literal, else what `coxswain` picks: the default route's interface)
#   --node-name NAME    its node name                         (its hostname)
# Global:
#   --ssh-opts "OPTS"   options for ssh, e.g. "-i ~/.ssh/id_ed25519 -o StrictHostKeyChecking=accept-new"
#   --tarball FILE      install this release instead of building one
#   --kubeconfig FILE   where to copy the admin kubeconfig     (./coxswain-kubeconfig)
#   --wait SEC          how long each node may take to be ready (300)
set -euo pipefail

usage() { sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "install.sh: $*" >&2; exit 2; }
log() { echo "coxswain-install: $*"; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
targets=() roles=()
declare -A global=() per=()
ssh_opts_str='' tarball='' kubeconfig_out=./coxswain-kubeconfig wait_sec=300
while [ $# -gt 0 ]; do
  case $1 in
    --server|--agent)
      [ -n "${2:-}" ] || die "$1 needs a target (user@host)"
      targets+=("$2"); roles+=("${1#--}"); shift 2 ;;
    --prefix|--etc-dir|--home|--log-dir|--docker-host|--mode|--extra-flags)
      [ $# -ge 2 ] || die "$1 needs a value"
      if [ ${#targets[@]} -eq 0 ]; then global[${1#--}]=$2; else per[$(( ${#targets[@]} - 1 )).${1#--}]=$2; fi
      shift 2 ;;
    --node-ip|--node-name)
      [ $# -ge 2 ] || die "$1 needs a value"
      [ ${#targets[@]} -gt 0 ] || die "$1 belongs after the --server or --agent it applies to"
      per[$(( ${#targets[@]} - 1 )).${1#--}]=$2; shift 2 ;;
    --ssh-opts) ssh_opts_str=${2?}; shift 2 ;;
    --tarball) tarball=${2:?}; shift 2 ;;
    --kubeconfig) kubeconfig_out=${2:?}; shift 2 ;;
    --wait) wait_sec=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || die "no hosts: give at least one --server user@host (see --help)"
[ "${roles[0]}" = server ] || die "the first host must be a --server: it creates the cluster"
read -ra ssh_opts <<< "$ssh_opts_str"

# setting INDEX NAME [DEFAULT]: the host's own value, else the global one, else DEFAULT.
setting() { local k="$1.$2"; if [ -n "${per[$k]+x}" ]; then echo "${per[$k]}"; else echo "${global[$2]:-${3:-}}"; fi; }
host_of() { local h=${1#*@}; h=${h#[}; echo "${h%]}"; }
is_ipv4() { [[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; }
node_ip() { local ip; ip=$(setting "$1" node-ip); if [ -z "$ip" ] && is_ipv4 "$(host_of "${targets[$1]}")"; then ip=$(host_of "${targets[$1]}"); fi; echo "$ip"; }

# remote INDEX SCRIPT [ARGS...]: runs bash SCRIPT with ARGS on the host as root (sudo -n when
# the SSH user is not root). stdin goes through to it.
remote() {
  local t=${targets[$1]} script=$2; shift 2
  local inner q
  inner=$(printf '%q ' bash -c "$script" coxswain "$@")
  q='S=; [ "$(id -u)" = 0 ] || S="sudo -n"; exec $S '"$inner"
  ssh "${ssh_opts[@]}" -o BatchMode=yes "$t" "$q"
}

# Prefixes each line of a command's output with the host, keeping its exit status.
labelled() { local name=$1; shift; set +e; "$@" 2>&1 | sed -u "s|^|[$name] |"; local rc=${PIPESTATUS[0]}; set -e; return "$rc"; }

push_release() {
  local i=$1 prefix
  prefix=$(setting "$i" prefix /opt/coxswain)
  remote "$i" 'rm -rf "$1.new" && mkdir -p "$1.new" && tar -xzf - -C "$1.new"' "$prefix" < "$tarball" \
    || { echo "could not copy the release to $prefix.new"; return 1; }
  echo "release copied to $prefix.new"
}

# install_node INDEX [SERVER_URL TOKEN]
install_node() {
  local i=$1 url=${2:-} token=${3:-} prefix args=()
  prefix=$(setting "$i" prefix /opt/coxswain)
  args=(install --role "${roles[$i]}" --prefix "$prefix" --wait "$wait_sec"
    --etc-dir "$(setting "$i" etc-dir /etc/coxswain)" --home "$(setting "$i" home /var/lib/coxswain)"
    --log-dir "$(setting "$i" log-dir /var/log/coxswain)" --mode "$(setting "$i" mode auto)")
  local v
  v=$(node_ip "$i"); [ -z "$v" ] || args+=(--node-ip "$v")
  v=$(setting "$i" node-name); [ -z "$v" ] || args+=(--node-name "$v")
  v=$(setting "$i" docker-host); [ -z "$v" ] || args+=(--docker-host "$v")
  v=$(setting "$i" extra-flags); [ -z "$v" ] || args+=(--extra-flags "$v")
  if [ -n "$url" ]; then
    args+=(--server "$url" --token-stdin)
    printf '%s\n' "$token" | remote "$i" 'p=$1; shift; exec bash "$p.new/deploy/node.sh" "$@"' "$prefix" "${args[@]}"
  else
    remote "$i" 'p=$1; shift; exec bash "$p.new/deploy/node.sh" "$@"' "$prefix" "${args[@]}" < /dev/null
  fi
}

name_of() { echo "${targets[$1]} (${roles[$1]})"; }

command -v ssh >/dev/null || die "ssh is not installed here"
if [ -z "$tarball" ]; then
  log "building the release (deploy/release.sh)"
  tarball=$("$here/release.sh" | tail -n1)
fi
[ -f "$tarball" ] || die "no release tarball at $tarball"
log "release $(tar -xzOf "$tarball" ./RELEASE) for ${#targets[@]} host(s)"

log "copying the release to every host"
pids=()
for i in "${!targets[@]}"; do labelled "${targets[$i]}" push_release "$i" & pids+=($!); done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || die "copying the release failed on some host (see above)"

log "starting the first server on ${targets[0]}"
labelled "${targets[0]}" install_node 0 || die "the first server did not start (see above)"
home0=$(setting 0 home /var/lib/coxswain)
token=$(remote 0 'cat "$1/token"' "$home0" < /dev/null) || die "could not read $home0/token on ${targets[0]}"
[ -n "$token" ] || die "$home0/token on ${targets[0]} is empty"
ip0=$(node_ip 0)
if [ -z "$ip0" ]; then
  ip0=$(remote 0 'sed -n "s#^ *server: *https://\([^:/]*\):.*#\1#p" "$1/kubeconfig" | head -n1' "$home0" < /dev/null)
fi
[ -n "$ip0" ] || die "could not tell the first server's address: give --node-ip after its --server"
url="https://$ip0:6443"
log "the cluster's API is at $url; join token read from ${targets[0]}:$home0/token"

# Servers that already run a node are restarted one at a time, so that the store keeps a
# majority through an upgrade; new hosts and agents go in parallel.
rolling=() parallel=()
for ((i = 1; i < ${#targets[@]}; i++)); do
  if [ "${roles[$i]}" = server ] && remote "$i" 'test -f "$1/RELEASE"' "$(setting "$i" prefix /opt/coxswain)" < /dev/null; then rolling+=("$i"); else parallel+=("$i"); fi
done
failed=()
for i in "${rolling[@]}"; do
  log "updating the installed server ${targets[$i]} (one at a time)"
  labelled "${targets[$i]}" install_node "$i" "$url" "$token" || failed+=("$(name_of "$i")")
done
if [ ${#parallel[@]} -gt 0 ]; then
  log "joining ${#parallel[@]} more host(s) in parallel"
  pids=()
  for i in "${parallel[@]}"; do labelled "${targets[$i]}" install_node "$i" "$url" "$token" & pids+=($!); done
  for k in "${!parallel[@]}"; do wait "${pids[$k]}" || failed+=("$(name_of "${parallel[$k]}")"); done
fi
[ ${#failed[@]} -eq 0 ] || die "these hosts did not join: ${failed[*]} (see above); re-run to retry"

(umask 077 && remote 0 'cat "$1/kubeconfig"' "$home0" < /dev/null > "$kubeconfig_out.tmp") \
  || die "could not copy $home0/kubeconfig from ${targets[0]}"
mv "$kubeconfig_out.tmp" "$kubeconfig_out"
log "done: ${#targets[@]} host(s) installed"
log "admin kubeconfig: ${targets[0]}:$home0/kubeconfig (every server has one), copied to $kubeconfig_out"
log "try: KUBECONFIG=$kubeconfig_out kubectl get nodes -o wide"
