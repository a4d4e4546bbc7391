#!/usr/bin/env bash
# `deno task test:windows`: prepares Wine (build/wine/setup.sh) and runs every *_windows_test.ts with Windows Deno.
# The tests seed what they read themselves (regedit /S of .reg files they write, sc create), so a fresh
# prefix is enough. Extra arguments go to `deno test` (e.g. --filter). Prints Deno's own summary line.
set -uo pipefail
cd "$(dirname "$0")/../.."
DIR=$(build/wine/setup.sh "${CTAGENT_WINE_DIR:-}") || { echo "test:windows: Wine setup failed" >&2; exit 1; }
mapfile -t files < <(find agent test -name '*_windows_test.ts' | sort)
if [ ${#files[@]} -eq 0 ]; then echo "test:windows: no *_windows_test.ts files" >&2; exit 1; fi
# --no-lock: Windows Deno would otherwise rewrite deno.lock with every import-map entry it resolves.
"$DIR/deno.sh" test -A --no-lock "$@" "${files[@]}"
