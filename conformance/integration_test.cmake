# rpb_integration_test(NAME DAEMON TIMEOUT [SERIAL] [ALONE id...])
#
# One integration-test program of conformance/*-it/: NAME.c linked with
# impl/tests' rpb_testutil, run as `NAME <DAEMON binary> <rpb-client binary>`
# with the ctest TIMEOUT (seconds), RUN_SERIAL when SERIAL is given.  Each
# ALONE id is its own ctest entry NAME.<id>: a test the program registers
# alone (tu_alone), which exits SKIP_RETURN_CODE 77 with the reason when it
# cannot run (no root, a host setting).
function(rpb_integration_test name daemon timeout)
  cmake_parse_arguments(IT "SERIAL" "" "ALONE" ${ARGN})
  add_executable(${name} ${name}.c)
  target_link_libraries(${name} PRIVATE rpb_testutil)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_dependencies(${name} ${daemon} rpb-client)
  set(cmd ${name} $<TARGET_FILE:${daemon}> $<TARGET_FILE:rpb-client>)
  add_test(NAME ${name} COMMAND ${cmd})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${timeout} RUN_SERIAL ${IT_SERIAL})
  foreach(id ${IT_ALONE})
    add_test(NAME ${name}.${id} COMMAND ${cmd} ${id})
    set_tests_properties(${name}.${id} PROPERTIES TIMEOUT 60 RUN_SERIAL ${IT_SERIAL} SKIP_RETURN_CODE 77)
  endforeach()
endfunction()
