#!/usr/bin/env bash
# Builds the container image with podman, runs it with a stdio upstream (tests/fixtures/
# tiny_stdio.sh) and calls a tool through it on 127.0.0.1; prints the time of each step.
# Not part of `deno task test` (a cold build takes minutes). Needs root, podman and runc
# (apt-get install podman runc debootstrap).
#
#   scripts/container_smoke.sh
#
# Environment:
#   BASE_IMAGE  base of both stages (default: localhost/debian:bookworm-minbase, made here with
#               debootstrap --variant=minbase from the Debian mirror apt uses, when missing)
#   EXTRA_CA    a PEM CA file for a build network that intercepts TLS (default: the local CAs
#               in /usr/local/share/ca-certificates, if any); passed as the build secret extra_ca
#   PORT        host port, published on 127.0.0.1 only (default 18766)
#   IMAGE       image tag to build (default localhost/mcpstead:smoke)
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=${BASE_IMAGE:-localhost/debian:bookworm-minbase}
PORT=${PORT:-18766}
IMAGE=${IMAGE:-localhost/mcpstead:smoke}
NAME=mcpstead-smoke-$$
podman=(podman --storage-driver=vfs)
run_flags=(--runtime=runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
work=$(mktemp -d)

cleanup() {
  "${podman[@]}" rm -f "$NAME" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step_start=0
step() {
  step_start=$(date +%s.%N)
  printf '%-44s' "$1"
}
done_step() {
  awk -v a="$step_start" -v b="$(date +%s.%N)" -v m="${1:-ok}" 'BEGIN {printf "%6.1f s  %s\n", b - a, m}'
}

if ! "${podman[@]}" image exists "$BASE_IMAGE"; then
  [[ "$BASE_IMAGE" == localhost/debian:bookworm-minbase ]] || {
    echo "base image $BASE_IMAGE not found" >&2
    exit 1
  }
  mirror=$(grep -hoE '^URIs: *http[^ ]*/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    head -n 1 | sed 's/^URIs: *//')
  mirror=${mirror:-http://deb.debian.org/debian}
  step "debootstrap minbase bookworm ($mirror)"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log"; exit 1; }
  tar -C "$work/rootfs" -c . | "${podman[@]}" import - "$BASE_IMAGE" >/dev/null
  rm -rf "$work/rootfs"
  done_step
fi

secret=()
if [ -z "${EXTRA_CA:-}" ] && compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cat /usr/local/share/ca-certificates/*.crt >"$work/extra_ca.pem"
  EXTRA_CA="$work/extra_ca.pem"
fi
[ -n "${EXTRA_CA:-}" ] && secret=(--secret "id=extra_ca,src=$EXTRA_CA")

step "podman build ($IMAGE)"
"${podman[@]}" build --runtime=runc --format docker --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  --build-arg TARGETARCH=amd64 "${secret[@]}" -t "$IMAGE" . >"$work/build.log" 2>&1 ||
  { tail -n 40 "$work/build.log"; exit 1; }
done_step "$("${podman[@]}" image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%d MB", $1/1e6}')"

cp tests/fixtures/tiny_stdio.sh "$work/tiny_stdio.sh"
chmod 755 "$work/tiny_stdio.sh"
cat >"$work/config.yaml" <<'EOF'
host: 0.0.0.0
port: 8766
mcp:
  allow_unauthenticated_remote: true # published on the host's loopback only (-p 127.0.0.1:...)
servers:
  - name: tiny
    command: /opt/upstream/tiny_stdio.sh
    required: true
EOF
chmod 644 "$work/config.yaml"
chmod 755 "$work"

step "podman run, until /health answers"
"${podman[@]}" run -d --name "$NAME" "${run_flags[@]}" -p "127.0.0.1:$PORT:8766" \
  -v "$work/config.yaml:/etc/mcpstead/config.yaml:ro" \
  -v "$work/tiny_stdio.sh:/opt/upstream/tiny_stdio.sh:ro" "$IMAGE" >/dev/null 2>"$work/run.log" ||
  { cat "$work/run.log"; exit 1; }
# Without systemd, podman logs that it cannot schedule the HEALTHCHECK timer; it runs below.
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/health" >"$work/health.json" 2>/dev/null && break
  sleep 0.1
done
grep -q '"connected":true' "$work/health.json" ||
  { "${podman[@]}" logs "$NAME"; echo "no healthy /health" >&2; exit 1; }
done_step

mcp=(-s -H 'content-type: application/json' -H 'accept: application/json, text/event-stream')
step "initialize, tools/list, tools/call"
session=$(curl "${mcp[@]}" -D - -o /dev/null "http://127.0.0.1:$PORT/mcp" -d \
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"smoke","version":"1"}}}' |
  tr -d '\r' | awk -F': ' 'tolower($1) == "mcp-session-id" {print $2}')
[ -n "$session" ] || { echo "no mcp-session-id" >&2; exit 1; }
mcp+=(-H "mcp-session-id: $session" -H 'mcp-protocol-version: 2025-11-25')
curl "${mcp[@]}" "http://127.0.0.1:$PORT/mcp" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
curl "${mcp[@]}" "http://127.0.0.1:$PORT/mcp" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' |
  grep -q '"name":"tiny__pid"' || { echo "tools/list lacks tiny__pid" >&2; exit 1; }
reply=$(curl "${mcp[@]}" "http://127.0.0.1:$PORT/mcp" \
  -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"tiny__pid","arguments":{}}}')
echo "$reply" | grep -q '"result":{"content":\[{"type":"text","text":"[0-9]*"}' ||
  { echo "unexpected tools/call reply: $reply" >&2; exit 1; }
done_step "$reply"

step "HEALTHCHECK (deno eval fetch /health)"
"${podman[@]}" healthcheck run "$NAME"
done_step

step "runs as"
done_step "$("${podman[@]}" exec "$NAME" id)"

step "podman stop (SIGTERM)"
"${podman[@]}" stop -t 10 "$NAME" >/dev/null 2>>"$work/run.log"
code=$("${podman[@]}" inspect "$NAME" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || { "${podman[@]}" logs "$NAME"; echo "exit code $code" >&2; exit 1; }
done_step "exit code 0"
echo "container smoke test passed"
