# Installation and the Debian package (README "Install and operate"):
#   cmake --preset release && cmake --build --preset release --target httpower httpower_man
#   (cd build/release && cpack -G DEB)
# Installing builds nothing by itself (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY): the package needs
# the binary and its man page, not every test of the tree.
# The man page is generated from the binary's --help by help2man at build time, so it cannot
# drift from the options (server/man_test.sh checks it and renders it with warnings on).

set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
find_program(HELP2MAN help2man)
set(httpower_pkg ${PROJECT_SOURCE_DIR}/packaging)
if(HELP2MAN)
  set(httpower_man ${CMAKE_CURRENT_BINARY_DIR}/httpower.1)
  add_custom_command(OUTPUT ${httpower_man} ${httpower_man}.gz
    COMMAND ${HELP2MAN} --no-info --section=1
            "--name=multi-threaded HTTP/1.1 static-file server"
            --include=${httpower_pkg}/httpower.h2m --output=${httpower_man} $<TARGET_FILE:httpower>
    COMMAND gzip -9nkf ${httpower_man}
    DEPENDS httpower ${httpower_pkg}/httpower.h2m
    COMMENT "help2man: httpower.1 from httpower --help" VERBATIM)
  add_custom_target(httpower_man ALL DEPENDS ${httpower_man} ${httpower_man}.gz)
  install(FILES ${httpower_man}.gz DESTINATION share/man/man1)
  add_test(NAME server.man
    COMMAND bash ${PROJECT_SOURCE_DIR}/server/man_test.sh $<TARGET_FILE:httpower> ${httpower_man}
            ${PROJECT_SOURCE_DIR}/README.md)
  set_tests_properties(server.man PROPERTIES LABELS "server;ops" TIMEOUT 60)
else()
  message(WARNING "help2man not found: no man page, no server.man test (ci/install-deps.sh installs it)")
endif()

install(TARGETS httpower RUNTIME DESTINATION bin)
# systemd's system unit directory on Debian 12 (usrmerge makes it /usr/lib/systemd/system too).
install(FILES ${httpower_pkg}/httpower.service ${httpower_pkg}/httpower.socket
        DESTINATION /lib/systemd/system)
install(FILES ${httpower_pkg}/default DESTINATION /etc/default RENAME httpower)
install(FILES ${httpower_pkg}/logrotate DESTINATION /etc/logrotate.d RENAME httpower)
# The demo site as committed (the generated large file of ci/serve-demo.sh left out).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/www/ DESTINATION share/httpower/www
        PATTERN .gitignore EXCLUDE PATTERN large.bin EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/httpower)

set(CPACK_PACKAGE_NAME httpower)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "HTTPower maintainers <httpower@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "multi-threaded HTTP/1.1 static-file server")
set(CPACK_PACKAGE_DESCRIPTION "HTTPower serves a directory over HTTP/1.1: GET and HEAD, keep-alive,
byte ranges, conditional requests, listings, access and error logs, a graceful stop. Shipped
with systemd units (socket activation, Type=notify), /etc/default/httpower and logrotate.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION httpd)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${httpower_pkg}/postinst ${httpower_pkg}/postrm ${httpower_pkg}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
