#!/usr/bin/env bash
# A Docker engine for the container tests (test/containers/, testcontainers in test/helpers/).
#
#   scripts/container-engine.sh install   # apt: docker.io containerd runc iptables; Compose v2 + buildx plugins
#   scripts/container-engine.sh start     # start dockerd unless an engine already answers; wait for `docker info`
#   scripts/container-engine.sh stop      # stop the dockerd that `start` started (and only that one)
#   scripts/container-engine.sh status    # exit 0 when `docker info` and `docker compose version` answer
#   scripts/container-engine.sh mirror    # print the Debian mirror apt uses (read from its sources)
#
# Nothing here is needed where an engine already answers (Docker Desktop, a CI service, a
# machine with Docker installed): every step first checks whether its result is already there.
# Installing needs root and apt-get; elsewhere `install` says why it did nothing and exits 0, and
# the container tests skip with one line saying so.
#
# Compose v2 and buildx: Debian 12 packages neither CLI plugin, Debian 13's `docker-compose` and
# `docker-buildx` packages run on Debian 12's libc (they are static Go binaries). They come from
# the same Debian mirror apt already uses (read from apt's own sources, never named here), through
# a separate apt state directory under .cache/ so the machine's apt lists are untouched, unpacked
# with `dpkg-deb -x` into ~/.docker/cli-plugins.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.cache/container-engine"
PIDFILE="$CACHE/dockerd.pid"
LOGFILE="$CACHE/dockerd.log"
PLUGINS="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
PLUGIN_SUITE="${HAPI_DOCKER_PLUGIN_SUITE:-trixie}"
START_TIMEOUT_S=60

log() { echo "[container-engine] $*"; }
is_root() { [ "$(id -u)" = 0 ]; }
engine_answers() { timeout 10 docker info >/dev/null 2>&1; }
compose_answers() { timeout 10 docker compose version >/dev/null 2>&1; }

# The first `deb` URI in apt's sources that serves this release's main suite (not -security,
# -updates or a third-party repository): the Debian mirror this machine already uses.
debian_mirror() {
  local codename
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  [ -n "$codename" ] || return 1
  {
    # One-line format: deb [options] URI suite components…
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -E 's/\[[^]]*\]//' | awk -v s="$codename" '$1 == "deb" && $3 == s { print $2 }' || true
    # deb822 format: stanzas of Types/URIs/Suites.
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk -v s="$codename" '
        function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ")) { split(uris, u, " "); print u[1] } types = uris = suites = "" }
        /^[[:space:]]*$/ { flush(); next }
        /^Types:/ { sub(/^Types:[[:space:]]*/, ""); types = $0 }
        /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
        /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
        END { flush() }' "$f"
    done
  } | head -n 1
}

install_engine_packages() {
  if command -v dockerd >/dev/null 2>&1 && command -v containerd >/dev/null 2>&1; then return 0; fi
  log "installing docker.io containerd runc iptables with apt-get"
  # policy-rc.d exit 101 = "do not start services": the packages' maintainer scripts would
  # otherwise start a dockerd that no one here controls. Removed again whatever happens.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && created_policy=1
  fi
  local status=0
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        docker.io containerd runc iptables
  } || status=$?
  [ "$created_policy" = 1 ] && rm -f "$policy"
  return "$status"
}

install_cli_plugins() {
  if compose_answers && timeout 10 docker buildx version >/dev/null 2>&1; then return 0; fi
  local mirror
  mirror="$(debian_mirror)" || true
  if [ -z "$mirror" ]; then
    log "no Debian mirror found in apt's sources; cannot fetch the Compose v2 plugin"
    return 1
  fi
  log "fetching docker-compose and docker-buildx from Debian $PLUGIN_SUITE (the mirror apt uses)"
  local state="$CACHE/apt-$PLUGIN_SUITE"
  mkdir -p "$state/lists/partial" "$state/archives/partial" "$state/parts" "$state/debs" "$state/root"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $PLUGIN_SUITE main" >"$state/sources.list"
  # Every path apt writes to points into $state; the machine's own lists and cache stay as they are.
  local apt_opts=(
    -o "Dir::State=$state" -o "Dir::State::Lists=$state/lists" -o "Dir::State::status=/dev/null"
    -o "Dir::Cache=$state" -o "Dir::Cache::Archives=$state/archives"
    -o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=$state/parts"
    -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
  )
  apt-get "${apt_opts[@]}" update -qq
  (cd "$state/debs" && rm -f ./*.deb && apt-get "${apt_opts[@]}" download docker-compose docker-buildx >/dev/null)
  mkdir -p "$PLUGINS"
  for deb in "$state"/debs/*.deb; do dpkg-deb -x "$deb" "$state/root"; done
  for plugin in docker-compose docker-buildx; do
    local found
    found="$(find "$state/root" -type f -path "*/cli-plugins/$plugin" | head -n 1)"
    [ -n "$found" ] || { log "$plugin not found in the Debian package"; return 1; }
    install -m 755 "$found" "$PLUGINS/$plugin"
  done
  # The plugins are installed; the suite's package lists (~170 MB) are not needed again.
  rm -rf "$state"
  log "$(docker compose version 2>&1 | head -n 1); buildx $(docker buildx version 2>&1 | awk '{print $2}')"
}

cmd_install() {
  if engine_answers && compose_answers; then log "engine and Compose already answer; nothing to install"; return 0; fi
  if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
    log "not root with apt-get: not installing a Docker engine (container tests will skip)"
    return 0
  fi
  local t0=$SECONDS
  install_engine_packages
  install_cli_plugins
  log "install took $((SECONDS - t0)) s"
}

cmd_start() {
  mkdir -p "$CACHE"
  if engine_answers; then log "an engine already answers; using it"; return 0; fi
  if ! command -v dockerd >/dev/null 2>&1; then log "no dockerd installed (run install first)"; return 1; fi
  if ! is_root; then log "not root: cannot start dockerd"; return 1; fi
  log "starting dockerd (log: ${LOGFILE#"$ROOT"/})"
  local t0=$SECONDS
  # setsid: dockerd gets its own session, so a Ctrl-C on the test run does not kill it half-way;
  # `stop` ends it by the pid recorded here.
  setsid dockerd --pidfile "$CACHE/dockerd.own.pid" >"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local deadline=$((SECONDS + START_TIMEOUT_S))
  while ! engine_answers; do
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      log "dockerd exited; last lines of its log:"; tail -n 20 "$LOGFILE"; rm -f "$PIDFILE"; return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then log "dockerd did not answer within ${START_TIMEOUT_S}s"; cmd_stop; return 1; fi
    sleep 0.5
  done
  log "dockerd answers after $((SECONDS - t0)) s"
}

cmd_stop() {
  [ -f "$PIDFILE" ] || { log "no dockerd started by us"; return 0; }
  local pid
  pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    # dockerd stops its containers (their own grace periods) before exiting.
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { log "dockerd still running after 60 s; killing it"; kill -KILL "$pid"; }
  fi
  rm -f "$PIDFILE"
  log "dockerd stopped"
}

cmd_status() {
  engine_answers || { echo "no engine"; return 1; }
  compose_answers || { echo "engine answers, no Compose v2"; return 1; }
  echo "engine $(docker version --format '{{.Server.Version}}'), $(docker compose version --short)"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  mirror) debian_mirror ;;
  *) echo "usage: $0 install|start|stop|status|mirror" >&2; exit 2 ;;
esac
