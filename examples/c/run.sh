#!/usr/bin/env bash
# Builds examples/c: compiles attention.mlir with gatec, links example.c
# against the library and its generated header, and runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
out="$build/examples/c"
mkdir -p "$out"
"$build/bin/gatec" "$here/attention.mlir" -o "$out/libattention.so"
cc -std=c11 -O2 -I"$here/../../include" -I"$out" "$here/example.c" \
   -L"$out" -lattention -Wl,-rpath,"$out" -lm -o "$out/example"
"$out/example"
