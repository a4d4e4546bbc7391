#!/usr/bin/env sh
# Runs the pinned Deno through npm: the one place the Deno version is set.
# Usage: build/deno.sh <any deno arguments>   (e.g. build/deno.sh task test)
DENO_VERSION=2.9.5
export DENO_VERSION
exec npx -y "deno@${DENO_VERSION}" "$@"
