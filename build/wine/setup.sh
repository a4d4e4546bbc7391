#!/usr/bin/env bash
# Prepares a headless Wine in which the Windows build of the pinned Deno runs (adapted from ../shared/wine/setup.sh).
#
#   usage: build/wine/setup.sh [DIR]     DIR defaults to $CTAGENT_WINE_DIR or ~/.cache/ctagent-wine (never in the repo)
#   then:  DIR/deno.sh test -A …          Windows Deno
#          DIR/wine.sh regedit /S x.reg   any Windows command in the same prefix
#
# Debian bookworm's Wine 8.0 needs two workarounds for a current deno.exe:
#   1. bcryptprimitives.dll is missing: a 1 KiB forwarder DLL sends ProcessPrng to advapi32 (make_forwarder_dll.py).
#   2. Wine 8 rejects a V8 memory-reservation flag: a copy of deno.exe with its "VirtualAlloc2" lookup
#      string renamed makes V8 take its fallback path (patch_virtualalloc2.py).
# Wine is not Windows: its registry starts almost empty (tests seed what they read), `sc query` cannot list
# services (the agent uses advapi32 through FFI anyway), and it reports Windows 7.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DIR=${1:-${CTAGENT_WINE_DIR:-$HOME/.cache/ctagent-wine}}
# The one place the Deno version is set is build/deno.sh; Windows Deno uses the same version.
DENO_VERSION=$(sed -n 's/^DENO_VERSION=//p' "$REPO/build/deno.sh")
mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd)

if ! command -v wine >/dev/null; then
  echo "wine: installing wine and wine64 with apt" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wine wine64 >/dev/null
fi

if [ ! -f "$DIR/deno-wine-$DENO_VERSION.exe" ]; then
  (cd "$DIR" && rm -f deno-wine-*.exe && npm pack --silent "@deno/win32-x64@$DENO_VERSION" >/dev/null 2>&1 &&
    tar xzf "deno-win32-x64-$DENO_VERSION.tgz" --strip-components=1 package/deno.exe &&
    rm -f "deno-win32-x64-$DENO_VERSION.tgz")
  python3 "$HERE/patch_virtualalloc2.py" "$DIR/deno.exe" "$DIR/deno-wine-$DENO_VERSION.exe" >/dev/null
  rm -f "$DIR/deno.exe"
fi

# The npm registry is reached through a TLS proxy whose CA is in the host bundle; Windows Deno reads DENO_CERT.
CA=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
winpath() { printf 'Z:%s' "${1//\//\\}"; }
cat >"$DIR/env.sh" <<EOS
export WINEPREFIX="$DIR/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" NO_COLOR=1
export DENO_DIR='$(winpath "$DIR/deno_dir")'
[ -f "$CA" ] && export DENO_CERT='$(winpath "$CA")'
unset DISPLAY
EOS
cat >"$DIR/wine.sh" <<EOS
#!/usr/bin/env bash
. "$DIR/env.sh"; exec wine "\$@"
EOS
cat >"$DIR/deno.sh" <<EOS
#!/usr/bin/env bash
. "$DIR/env.sh"; exec wine "$DIR/deno-wine-$DENO_VERSION.exe" "\$@"
EOS
chmod +x "$DIR/wine.sh" "$DIR/deno.sh"

if [ ! -d "$DIR/prefix" ]; then
  # shellcheck disable=SC1091
  ( . "$DIR/env.sh"; wineboot -i >/dev/null 2>&1; wineserver -w )
  python3 "$HERE/make_forwarder_dll.py" "$DIR/prefix/drive_c/windows/system32/bcryptprimitives.dll" \
    bcryptprimitives.dll ProcessPrng=advapi32.SystemFunction036 >/dev/null
fi
echo "$DIR"
