#!/usr/bin/env bash
# shellcheck disable=SC2016 # scripts for bash -c are single-quoted on purpose
# The part of the installer that runs on each target host, as root, from an unpacked release
# (deploy/install.sh streams the release to <prefix>.new and runs <prefix>.new/deploy/node.sh).
#
#   node.sh install --role server|agent [settings] [--token-stdin] [--wait SEC]
#       Installs the release this script belongs to at --prefix, writes the environment file,
#       and starts `coxswain <role>`: as a systemd unit when systemd runs this host, else
#       detached with nohup (containers, test beds). Waits for its ready line. When the same
#       release is installed with the same settings and is running, leaves it alone.
#   node.sh uninstall [--purge] [settings]
#       Stops and removes Coxswain from this host; --purge also deletes COXSWAIN_HOME and the
#       pods' containers.
#   node.sh render-unit --role server|agent [settings]
#       Prints the systemd unit with this host's paths (what `install` writes).
#
# Settings (defaults are the layout of a real machine; a test bed whose "hosts" share one
# file system gives each its own):
#   --prefix DIR       install directory                    (/opt/coxswain)
#   --etc-dir DIR      where coxswain.env goes               (/etc/coxswain)
#   --home DIR         COXSWAIN_HOME                         (/var/lib/coxswain)
#   --log-dir DIR      nohup mode's log and pid file         (/var/log/coxswain)
#   --unit-dir DIR     where units go                        (/etc/systemd/system)
#   --node PATH        the node binary                       (/usr/bin/node, else `command -v node`)
#   --mode M           auto | systemd | nohup                (auto: systemd when it is PID 1)
#   --server URL       join this cluster (joining servers and agents)
#   --token-stdin      read the join token from stdin (kept off command lines)
#   --node-ip IP, --node-name NAME, --docker-host URL, --extra-flags "FLAGS"
set -euo pipefail

say() { echo "$*"; }
die() { echo "node.sh: $*" >&2; exit 1; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmd=${1:-}; [ $# -gt 0 ] && shift
role='' prefix=/opt/coxswain etc_dir=/etc/coxswain home=/var/lib/coxswain log_dir=/var/log/coxswain
unit_dir=/etc/systemd/system node='' mode=auto server='' token='' token_stdin=0 node_ip='' node_name=''
docker_host='' extra_flags='' wait_sec=180 purge=0
while [ $# -gt 0 ]; do
  case $1 in
    --role) role=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --etc-dir) etc_dir=$2; shift 2 ;;
    --home) home=$2; shift 2 ;;
    --log-dir) log_dir=$2; shift 2 ;;
    --unit-dir) unit_dir=$2; shift 2 ;;
    --node) node=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --server) server=$2; shift 2 ;;
    --token-stdin) token_stdin=1; shift ;;
    --node-ip) node_ip=$2; shift 2 ;;
    --node-name) node_name=$2; shift 2 ;;
    --docker-host) docker_host=$2; shift 2 ;;
    --extra-flags) extra_flags=$2; shift 2 ;;
    --wait) wait_sec=$2; shift 2 ;;
    --purge) purge=1; shift ;;
    *) die "unknown argument $1" ;;
  esac
done
case $mode in auto|systemd|nohup) ;; *) die "--mode must be auto, systemd or nohup, not $mode" ;; esac

find_node() {
  [ -n "$node" ] && { [ -x "$node" ] || die "--node $node is not executable"; echo "$node"; return; }
  if [ -x /usr/bin/node ]; then echo /usr/bin/node; return; fi
  command -v node || die "node is not installed (Coxswain needs Node 20.19 or newer)"
}

# systemd runs this host when it is PID 1 (sd_booted's test). In a container or a network
# namespace of a test bed, systemctl would start the unit somewhere else, or nowhere.
use_systemd() {
  case $mode in systemd) return 0 ;; nohup) return 1 ;; esac
  [ -d /run/systemd/system ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]
}

# The unit as shipped, with this host's paths substituted.
render_unit() {
  local r=$1 n
  n=$(find_node)
  sed -e "s#/opt/coxswain#${prefix}#g" -e "s#/etc/coxswain/coxswain.env#${etc_dir}/coxswain.env#g" \
      -e "s#/usr/bin/node #${n} #g" -e "s#^Environment=COXSWAIN_HOME=.*#Environment=COXSWAIN_HOME=${home}#" \
      "$here/deploy/coxswain-$r.service"
}

# One KEY=value line; values are checked so that systemd and a shell read them alike.
env_line() {
  local key=$1 value=$2
  [ -n "$value" ] || return 0
  case $value in *[\"\$\\\`\']*|*$'\n'*) die "$key holds a quote, \$, backslash or newline, which coxswain.env cannot carry" ;; esac
  case $value in *' '*) echo "$key=\"$value\"" ;; *) echo "$key=$value" ;; esac
}

render_env() {
  echo "# Written by deploy/install.sh for coxswain-$role; see deploy/coxswain.env.example."
  env_line COXSWAIN_HOME "$home"
  env_line COXSWAIN_SERVER "$server"
  env_line COXSWAIN_TOKEN "$token"
  env_line COXSWAIN_NODE_IP "$node_ip"
  env_line COXSWAIN_NODE_NAME "$node_name"
  env_line DOCKER_HOST "$docker_host"
  env_line COXSWAIN_EXTRA_FLAGS "$extra_flags"
}

pidfile() { echo "$log_dir/coxswain-$1.pid"; }
logfile() { echo "$log_dir/coxswain-$1.log"; }

# The pid of the nohup-started `coxswain <role>` of this install, if it runs.
nohup_pid() {
  local f pid cmdline
  f=$(pidfile "$1")
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # not some other process that got the pid since; right after the start this is still the
  # `setsid nohup bash -c` that execs node, with coxswain.js and the role among its arguments
  cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
  case $cmdline in *coxswain.js*" $1"*) echo "$pid" ;; *) return 1 ;; esac
}

is_running() {
  if use_systemd; then systemctl is-active --quiet "coxswain-$1"; else nohup_pid "$1" >/dev/null; fi
}

stop_role() {
  local r=$1 pid i
  if use_systemd; then
    if systemctl is-active --quiet "coxswain-$r" || systemctl is-enabled --quiet "coxswain-$r" 2>/dev/null; then
      say "stopping coxswain-$r.service"
      systemctl disable --now "coxswain-$r" >/dev/null 2>&1 || true
    fi
    return 0
  fi
  pid=$(nohup_pid "$r") || return 0
  say "stopping coxswain $r (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local t0=$SECONDS
  for ((i = 0; i < 900; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then say "coxswain $r did not stop in 90 s: killing it"; else say "stopped in $((SECONDS - t0)) s"; fi
  # what is left now gets what systemd's KillMode=mixed would give it
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$(pidfile "$r")"
}

start_role() {
  local r=$1 n
  if use_systemd; then
    mkdir -p "$unit_dir"
    render_unit "$r" > "$unit_dir/coxswain-$r.service"
    systemctl daemon-reload
    systemctl enable --quiet "coxswain-$r"
    systemctl restart "coxswain-$r"
    say "started coxswain-$r.service (systemd); logs: journalctl -u coxswain-$r"
    return 0
  fi
  n=$(find_node)
  mkdir -p "$log_dir"
  # The same contract as the unit: the environment file, then `coxswain <role> $COXSWAIN_EXTRA_FLAGS`.
  # setsid: the process outlives the SSH session that started it.
  setsid nohup bash -c 'set -a; . "$1"; set +a; exec "$2" "$3/bin/coxswain.js" "$4" $COXSWAIN_EXTRA_FLAGS' \
    coxswain "$etc_dir/coxswain.env" "$n" "$prefix" "$r" >> "$(logfile "$r")" 2>&1 < /dev/null &
  echo $! > "$(pidfile "$r")"
  say "started coxswain $r with nohup (pid $!; no systemd as PID 1 here); log: $(logfile "$r")"
}

# Output of this start of the service, for the ready line.
start_output() {
  local r=$1 since=$2 from=$3
  if use_systemd; then journalctl -u "coxswain-$r" -o cat --no-pager --since "@$since" 2>/dev/null
  else tail -c "+$((from + 1))" "$(logfile "$r")" 2>/dev/null; fi
}

wait_ready() {
  local r=$1 since=$2 from=$3 deadline=$((SECONDS + wait_sec))
  while ((SECONDS < deadline)); do
    if start_output "$r" "$since" "$from" | grep -q "^coxswain: $r ready"; then
      say "$(start_output "$r" "$since" "$from" | grep -m1 "^coxswain: $r ready")"
      return 0
    fi
    if ! is_running "$r"; then
      echo "coxswain $r exited before it was ready; its last lines:" >&2
      start_output "$r" "$since" "$from" | tail -n 20 >&2
      return 1
    fi
    sleep 1
  done
  echo "coxswain $r was not ready after ${wait_sec}s; its last lines:" >&2
  start_output "$r" "$since" "$from" | tail -n 20 >&2
  return 1
}

install() {
  case $role in server|agent) ;; *) die "--role must be server or agent" ;; esac
  [ "$(id -u)" = 0 ] || die "must run as root"
  if [ "$token_stdin" = 1 ]; then IFS= read -r token || true; [ -n "$token" ] || die "--token-stdin: no token on stdin"; fi
  if [ "$role" = agent ] && { [ -z "$server" ] || [ -z "$token" ]; }; then die "an agent needs --server and a token"; fi
  local n other new_env old_release new_release since from
  n=$(find_node)
  "$n" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || die "$n is Node $("$n" -v); Coxswain needs 20.19 or newer"

  new_env=$(render_env)
  new_release=$(cat "$here/RELEASE")
  old_release=$(cat "$prefix/RELEASE" 2>/dev/null || true)
  other=server; [ "$role" = server ] && other=agent
  if [ "$here" != "$prefix" ] && [ "$new_release" = "$old_release" ] && [ "$new_env" = "$(cat "$etc_dir/coxswain.env" 2>/dev/null)" ] && is_running "$role"; then
    rm -rf "$here"
    say "unchanged: $new_release with the same settings is running as $role; left alone"
    return 0
  fi

  stop_role "$other"
  stop_role "$role"
  if [ "$here" != "$prefix" ]; then
    rm -rf "$prefix.old"
    [ -e "$prefix" ] && mv "$prefix" "$prefix.old"
    mv "$here" "$prefix"
    rm -rf "$prefix.old"
    say "installed $new_release at $prefix${old_release:+ (was $old_release)}"
  fi
  mkdir -p "$etc_dir" "$home"
  (umask 077 && printf '%s\n' "$new_env" > "$etc_dir/coxswain.env.tmp" && mv "$etc_dir/coxswain.env.tmp" "$etc_dir/coxswain.env")
  say "wrote $etc_dir/coxswain.env"

  since=$(date +%s)
  from=$(stat -c %s "$(logfile "$role")" 2>/dev/null || echo 0)
  start_role "$role"
  wait_ready "$role" "$since" "$from"
}

uninstall() {
  local r dh ids
  dh=${docker_host:-$(sed -n 's/^DOCKER_HOST=//p' "$etc_dir/coxswain.env" 2>/dev/null | tr -d '"')}
  for r in server agent; do stop_role "$r"; rm -f "$unit_dir/coxswain-$r.service" "$(pidfile "$r")"; done
  if use_systemd; then systemctl daemon-reload; fi
  rm -rf "$prefix" "$prefix.new" "$prefix.old" "$etc_dir"
  say "removed $prefix, $etc_dir and the units; logs stay in $log_dir"
  if [ "$purge" = 1 ]; then
    rm -rf "$home"
    say "removed $home (--purge)"
    # the pods' containers belong to dockerd and outlive the kubelet
    if command -v docker >/dev/null; then
      ids=$(DOCKER_HOST=${dh:-unix:///var/run/docker.sock} docker ps -aq --filter label=io.kubernetes.pod.uid)
      # shellcheck disable=SC2086 # one id a word
      [ -z "$ids" ] || { DOCKER_HOST=${dh:-unix:///var/run/docker.sock} docker rm -f $ids >/dev/null; say "removed $(echo "$ids" | wc -l) pod container(s)"; }
    fi
  else say "cluster data stays in $home (--purge removes it)"; fi
}

case $cmd in
  install) install ;;
  uninstall) uninstall ;;
  render-unit) case $role in server|agent) render_unit "$role" ;; *) die "--role must be server or agent" ;; esac ;;
  *) die "usage: node.sh install|uninstall|render-unit [flags] (see the head of this file)" ;;
esac
