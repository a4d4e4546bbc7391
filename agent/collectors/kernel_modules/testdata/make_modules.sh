#!/usr/bin/env bash
# Makes the module files of machine/ (kept in git; run again only to change them): tiny ELF objects with a .modinfo
# section (gcc, objcopy), some signed as the kernel's sign-file does (a PKCS#7 detached signature by a throwaway
# key, made with openssl cms and never kept, then struct module_signature and the magic), some compressed as
# the kernel's build does (gzip, zstd, xz). modinfo(8) reads them all: the tests use it as the oracle.
set -euo pipefail
cd "$(dirname "$0")"
release=6.1.0-ctagent
dir=machine/lib/modules/$release
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -new -nodes -utf8 -sha256 -days 36500 -batch -x509 -newkey rsa:2048 \
  -subj "/O=ctagent fixtures/CN=ctagent fixture signing key" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
echo 'int ctagent_fixture;' >"$tmp/m.c"
gcc -c -O0 -o "$tmp/m.o" "$tmp/m.c"

# module NAME FILE HASH(none: unsigned) then key=value pairs of its .modinfo
module() {
  local name=$1 file=$2 hash=$3
  shift 3
  : >"$tmp/modinfo"
  for kv in "$@" "name=$name" "vermagic=$release SMP preempt mod_unload modversions "; do
    printf '%s\0' "$kv" >>"$tmp/modinfo"
  done
  mkdir -p "$(dirname "$dir/$file")"
  local raw=$tmp/$name.ko
  objcopy --add-section .modinfo="$tmp/modinfo" --set-section-flags .modinfo=alloc,readonly "$tmp/m.o" "$raw"
  if [ "$hash" != none ]; then
    openssl cms -sign -in "$raw" -signer "$tmp/cert.pem" -inkey "$tmp/key.pem" -outform DER -binary -noattr \
      -nocerts -md "$hash" -out "$tmp/sig"
    python3 - "$raw" "$tmp/sig" <<'PY'
import struct, sys
sig = open(sys.argv[2], "rb").read()
with open(sys.argv[1], "ab") as f:
    # struct module_signature: algo, hash, id_type (2: PKCS#7), signer_len, key_id_len, pad[3], sig_len (BE)
    f.write(sig + struct.pack(">BBBBB3xI", 0, 0, 2, 0, 0, len(sig)) + b"~Module signature appended~\n")
PY
  fi
  case $file in
    *.ko) cp "$raw" "$dir/$file" ;;
    *.ko.gz) gzip -9 -n -c "$raw" >"$dir/$file" ;;
    *.ko.zst) zstd -q -19 -c "$raw" >"$dir/$file" ;;
    *.ko.xz) xz -9 -c --check=crc32 "$raw" >"$dir/$file" ;;
  esac
  echo "${file}:" >>"$tmp/modules.dep"
}

rm -rf "$dir/kernel" "$dir/updates"
: >"$tmp/modules.dep"
module plainfs kernel/fs/plainfs/plainfs.ko none version=1.2.3 "description=A plain file system" license=GPL \
  srcversion=0A1B2C3D4E5F60718293A4B depends= intree=Y
module signed_net kernel/drivers/net/signed-net.ko sha256 "description=A signed network driver" \
  "license=GPL v2" srcversion=11111111111111111111111 depends=plainfs intree=Y
module zcrypt kernel/crypto/zcrypt.ko.zst sha256 version=2.0 "description=A zstd-compressed module" \
  license=GPL srcversion=22222222222222222222222 depends=signed_net,plainfs intree=Y
module gzmod kernel/lib/gzmod.ko.gz sha512 version=0.9-rc1 "description=A gzip-compressed module" \
  license="Dual MIT/GPL" srcversion=33333333333333333333333 depends= intree=Y
module xzmod kernel/sound/xzmod.ko.xz sha256 version=4 "description=An xz-compressed module" license=GPL \
  srcversion=44444444444444444444444 depends= intree=Y
module vendor updates/dkms/vendor.ko none version=535.129.03 "description=An out-of-tree vendor driver" \
  license=Proprietary srcversion=55555555555555555555555 depends=
cp "$tmp/modules.dep" "$dir/modules.dep"
