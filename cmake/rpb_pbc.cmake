# rpb_pbc: protobuf-c code generated from proto/ at build time.  It is the
# independent second decoder that fuzz/ (differential oracle) and
# tools/bench/ (baseline) compare librpb with; nothing in librpb uses it.
# Both include() this file; the first include defines the target, and the
# includer tests `if(TARGET rpb_pbc)`.
#
# protobuf-c 1.4 (Debian 12, Ubuntu 24.04) rejects proto3 `optional`.  A
# proto3 optional field is by definition a one-member oneof (same wire
# format, same explicit presence), so the copies given to protoc-c spell it
# that way: `optional T name = N;` -> `oneof _name { T name = N; }`.

include_guard(GLOBAL)

find_program(RPB_PROTOC_C protoc-c)
find_path(RPB_PROTOBUF_C_INCLUDE protobuf-c/protobuf-c.h)
find_library(RPB_PROTOBUF_C_LIB NAMES libprotobuf-c.a protobuf-c)
file(GLOB RPB_PROTOS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/proto/*.proto)

if(NOT RPB_PROTOC_C OR NOT RPB_PROTOBUF_C_INCLUDE OR NOT RPB_PROTOBUF_C_LIB OR NOT RPB_PROTOS)
  message(WARNING "rpb_pbc: protoc-c, libprotobuf-c-dev or proto/*.proto missing; "
                  "the fuzz targets and rpb-bench-codec are not built")
  return()
endif()

set(pbc_proto_dir ${CMAKE_BINARY_DIR}/pbc/proto)
set(pbc_out_dir ${CMAKE_BINARY_DIR}/pbc/gen)
file(MAKE_DIRECTORY ${pbc_proto_dir} ${pbc_out_dir})

set(pbc_sources "")
set(pbc_rewritten "")
foreach(proto ${RPB_PROTOS})
  get_filename_component(name ${proto} NAME_WE)
  file(READ ${proto} text)
  string(REGEX REPLACE "optional[ \t]+([A-Za-z0-9_.]+)[ \t]+([A-Za-z0-9_]+)[ \t]*=[ \t]*([0-9]+)[ \t]*;"
                       "oneof _\\2 { \\1 \\2 = \\3; }" text "${text}")
  file(CONFIGURE OUTPUT ${pbc_proto_dir}/${name}.proto CONTENT "${text}" @ONLY)
  list(APPEND pbc_rewritten ${pbc_proto_dir}/${name}.proto)
  list(APPEND pbc_sources ${pbc_out_dir}/${name}.pb-c.c)
endforeach()

add_custom_command(
  OUTPUT ${pbc_sources}
  COMMAND ${RPB_PROTOC_C} --proto_path=${pbc_proto_dir} --c_out=${pbc_out_dir} ${pbc_rewritten}
  DEPENDS ${pbc_rewritten} ${RPB_PROTOS}
  COMMENT "protoc-c: generating protobuf-c code from proto/"
  VERBATIM)

add_library(rpb_pbc STATIC ${pbc_sources})
target_include_directories(rpb_pbc PUBLIC ${pbc_out_dir} ${RPB_PROTOBUF_C_INCLUDE})
target_link_libraries(rpb_pbc PUBLIC ${RPB_PROTOBUF_C_LIB})
# Generated code: not ours to warn about.
target_compile_options(rpb_pbc PRIVATE -w)
