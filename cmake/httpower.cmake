# Helpers shared by every folder. Each folder globs its own files by suffix, so adding a
# test, property, fuzzer, stress program or benchmark needs no edit outside that file.

# httpower_add_gtest(NAME SOURCES... LIBS ...): one GoogleTest executable, discovered at test time.
function(httpower_add_gtest name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_LIBS} GTest::gtest GTest::gtest_main Threads::Threads)
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${A_LABELS}" TIMEOUT 300)
endfunction()

# Every *_test.cpp in DIR becomes its own test executable.
function(httpower_glob_gtests dir libs labels)
  file(GLOB tests CONFIGURE_DEPENDS ${dir}/*_test.cpp)
  foreach(src IN LISTS tests)
    get_filename_component(name ${src} NAME_WE)
    httpower_add_gtest(${name} SOURCES ${src} LIBS ${libs} LABELS "${labels}")
  endforeach()
endfunction()
