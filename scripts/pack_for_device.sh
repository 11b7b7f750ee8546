#!/usr/bin/env bash
# Packs binaries built here for the GPU machine (../shared/tools/devpack.sh), then drops the
# libraries that machine's Ubuntu 24.04 has itself (OpenSSL, GnuTLS and its helpers, zlib, zstd,
# udev, libffi, GMP, glibc's libresolv), so the checkout plus the pack stay within what one call
# carries (64 MiB). The rest (OpenBLAS, libcurl and its Kerberos/LDAP chain, Open MPI, fmt,
# PCRE2, ...) differ in soname or are absent there, and stay in.
#
#   scripts/pack_for_device.sh .devpack build/bentov build/bentov_tests build/bentov_make_model
set -euo pipefail
out=$1
"$(dirname "$0")/../../shared/tools/devpack.sh" "$@"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
tar xJf "$out/devpack.tar.xz" -C "$stage"
for lib in libcrypto.so.3 libssl.so.3 libgnutls.so.30 libp11-kit.so.0 libtasn1.so.6 libnettle.so.8 \
           libhogweed.so.6 libidn2.so.0 libz.so.1 libzstd.so.1 libudev.so.1 libffi.so.8 libgmp.so.10 \
           libresolv.so.2 libcom_err.so.2 libkeyutils.so.1; do
  rm -f "$stage/lib/$lib"
done
tar cf - -C "$stage" . | xz -9 -T2 > "$out/devpack.tar.xz"
echo "$out/devpack.tar.xz: $(du -h "$out/devpack.tar.xz" | cut -f1) after dropping the system's libraries"
