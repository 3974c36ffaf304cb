#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build of rpb (fuzz/oss-fuzz/ and .clusterfuzzlite/
# both run this file as $SRC/build.sh, with the source in $SRC/rpb).
#
# Every fuzz target of fuzz/ into $OUT, compiled with the engine's $CC and
# $CFLAGS (librpb instrumented too) and linked by $CXX against
# $LIB_FUZZING_ENGINE (libFuzzer or AFL++'s driver; never a hard-coded
# -fsanitize=fuzzer).  Next to each target <t>:
#   <t>_seed_corpus.zip  fuzz/corpus/<t>/ (generated from vectors/)
#   <t>.dict             its dictionary from fuzz/dict/
#   <t>.options          libFuzzer options naming that dictionary
# protobuf-c (the differential oracle) is linked statically: the runner
# image has no libprotobuf-c.so.

build="$WORK/rpb-build"
# No CMAKE_BUILD_TYPE: the engine's $CFLAGS alone (no -DNDEBUG, asserts stay).
cmake -S "$SRC/rpb" -B "$build" -DCMAKE_BUILD_TYPE= \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
    -DRPB_FUZZ=ON -DRPB_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" -DRPB_FUZZ_LINK_CXX=ON

targets=$(bash "$SRC/rpb/fuzz/run.sh" --list)
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $targets

for t in $targets; do
    cp "$build/bin/$t" "$OUT/"
    rm -f "$OUT/${t}_seed_corpus.zip"
    (cd "$SRC/rpb/fuzz/corpus/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
    cp "$(bash "$SRC/rpb/fuzz/run.sh" --dict "$t")" "$OUT/$t.dict"
    printf '[libfuzzer]\ndict = %s.dict\n' "$t" >"$OUT/$t.options"
done
