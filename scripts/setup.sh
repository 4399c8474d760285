#!/usr/bin/env bash
# Installs the Debian packages healthscore needs to build, test and run its
# demo, if any are missing. Idempotent; needs root (or sudo) only to install.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev clang-format valgrind gdb
  libyajl-dev libmsgpack-dev libyaml-dev libcmocka-dev
  libuv1-dev libhiredis-dev librdkafka-dev libhttp-parser-dev libavro-dev
  redis-server redis-tools kcat curl python3 python3-jsonschema
  yamllint python3-yaml systemd
  chromium python3-pil python3-confluent-kafka
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# kubectl (for `kubectl kustomize`): Debian's kubernetes-client, unless a
# kubectl from another package is already installed (they conflict).
if ! command -v kubectl >/dev/null 2>&1; then
  missing+=(kubernetes-client)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "setup: not root; run: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
${SUDO:-} env DEBIAN_FRONTEND=noninteractive apt-get update -qq
${SUDO:-} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
echo "setup: done"
