# mcpstead container image: the `deno bundle` of the gateway and the deno binary, nothing else.
#
#   podman build -t mcpstead .          (or docker build; add --secret id=extra_ca,src=<pem> when
#                                        the build network intercepts TLS with its own CA)
#   podman run -d -p 127.0.0.1:8766:8766 -v ./mcpstead.yaml:/etc/mcpstead/config.yaml:ro mcpstead
#
# The config is mounted read-only at /etc/mcpstead/config.yaml and must say `host: 0.0.0.0` (see
# below). scripts/container_smoke.sh builds, runs and calls a tool through this image.

ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

# --- builder: deno from the npm registry, the dependencies from deno.lock, then one bundle ---
FROM ${BASE_IMAGE} AS builder
ARG DENO_VERSION=2.9.5
ARG NPM_REGISTRY=https://registry.npmjs.org
# sha512 of @deno/linux-<arch>-glibc@2.9.5 (npm's dist.integrity, in hex).
ARG DENO_SHA512_X64=4c3a9c9e82dede3960a981109bb1fb30aeaad093ad87ea3c89267392744e0e756425f3e23678d59f533565ceaf9e9fa2a64c9be80bf5fc25251e01ed96ae7d1b
ARG DENO_SHA512_ARM64=22e623b33f4f1a5ec225c35732e376eca34307c438d1bacadd21b797e4d7303556eb564ac1c9f47d01c11e75c58a2ca013023c6f2fdf2a7012125ba1641d5ab7
# Set by `docker buildx` / `podman build --platform`; amd64 when building without it.
ARG TARGETARCH

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

# The optional secret `extra_ca` is a PEM CA for build networks that intercept TLS; it is
# mounted only while a step runs and never lands in a layer.
RUN --mount=type=secret,id=extra_ca,required=false \
    set -eu; \
    case "${TARGETARCH:-amd64}" in \
      amd64) arch=x64; sum="$DENO_SHA512_X64" ;; \
      arm64) arch=arm64; sum="$DENO_SHA512_ARM64" ;; \
      *) echo "no deno build for $TARGETARCH" >&2; exit 1 ;; \
    esac; \
    ca=/etc/ssl/certs/ca-certificates.crt; \
    if [ -s /run/secrets/extra_ca ]; then cat "$ca" /run/secrets/extra_ca > /tmp/ca.pem; ca=/tmp/ca.pem; fi; \
    curl -fsSL --cacert "$ca" -o /tmp/deno.tgz \
      "$NPM_REGISTRY/@deno/linux-$arch-glibc/-/linux-$arch-glibc-$DENO_VERSION.tgz"; \
    echo "$sum  /tmp/deno.tgz" | sha512sum -c -; \
    tar -xzf /tmp/deno.tgz -C /tmp; \
    install -m 755 /tmp/package/deno /usr/local/bin/deno; \
    rm -rf /tmp/package /tmp/deno.tgz /tmp/ca.pem; \
    deno --version

WORKDIR /src
COPY deno.json deno.lock main.ts ./
COPY src/ src/
ENV DENO_DIR=/deno-dir DENO_NO_UPDATE_CHECK=1
# --frozen: the lockfile decides every version and hash. The bundle must start with nothing but
# the deno binary, which the last command checks.
RUN --mount=type=secret,id=extra_ca,required=false \
    set -eu; \
    if [ -s /run/secrets/extra_ca ]; then export DENO_CERT=/run/secrets/extra_ca; fi; \
    deno install --frozen --entrypoint main.ts; \
    deno bundle --platform=deno -o /out/mcpstead.js main.ts; \
    cd / && deno run --no-config /out/mcpstead.js --version

# --- runtime: deno, the bundle, a user without privileges ---
FROM ${BASE_IMAGE}
COPY --from=builder /usr/local/bin/deno /usr/local/bin/deno
COPY --from=builder /out/mcpstead.js /opt/mcpstead/mcpstead.js
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin mcpstead \
    && mkdir -p /etc/mcpstead
ENV DENO_DIR=/tmp/deno DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
USER mcpstead:mcpstead

# Inside a container 127.0.0.1 is the container's own loopback: a published port arrives on the
# container's network interface, so the mounted config must listen with `host: 0.0.0.0`. Keep
# the exposure small on the host side instead, e.g. `-p 127.0.0.1:8766:8766`. The gateway refuses
# to listen beyond loopback without auth unless the config also says
# `mcp.allow_unauthenticated_remote: true`; Host/Origin checks and `mcp.auth.mode: bearer`
# (MCPSTEAD_BEARER_TOKEN) still apply.
EXPOSE 8766

# No curl in the image: deno itself probes /health (deno eval may use the network).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:8766/health'); Deno.exit(r.ok ? 0 : 1)"]

# Permissions: the config directory (also for tls_ca_file), any host (upstreams are only known
# from the config), variables (token_env, ${VAR}) and commands for stdio upstreams. A config
# that needs more fails at startup with the flag to add.
ENTRYPOINT ["deno", "run", "--no-config", "--no-prompt", "--allow-read=/etc/mcpstead", "--allow-net", "--allow-env", "--allow-run", "/opt/mcpstead/mcpstead.js"]
CMD ["--config", "/etc/mcpstead/config.yaml"]
