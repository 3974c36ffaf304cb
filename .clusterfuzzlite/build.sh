#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: every fuzz target into $OUT, built with
# the engine's $CC/$CFLAGS and linked by $CXX against $LIB_FUZZING_ENGINE
# (OSS-Fuzz rule: never hard-code -fsanitize=fuzzer, link with $CXX).
# Next to each target: <target>_seed_corpus.zip (fuzz/corpus/<target>/) and
# <target>.dict (fuzz/dict/).  protobuf-c is linked statically: the runner
# image does not have libprotobuf-c.so.

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
    (cd "$SRC/rpb/fuzz/corpus/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
    cp "$(bash "$SRC/rpb/fuzz/run.sh" --dict "$t")" "$OUT/$t.dict"
done
