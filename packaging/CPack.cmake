# Debian package for spanwatch, built with `cpack -G DEB` from a build tree.
# CMakeLists.txt only needs `include(packaging/CPack.cmake)` (at the end).
#
# Configure the package build with -DCMAKE_INSTALL_PREFIX=/usr so that the
# compiled-in SW_DATADIR is /usr/share/spanwatch (tests/e2e/test_package.sh
# does this).
#
# Layout:
#   /usr/bin/spanwatch
#   /etc/spanwatch/spanwatch.yaml           default config (conffile)
#   /etc/spanwatch/classification.config    (conffile)
#   /etc/default/spanwatch                  interface for the unit (conffile)
#   /etc/logrotate.d/spanwatch              (conffile)
#   /lib/systemd/system/spanwatch.service
#   /usr/share/spanwatch/rules/*.rules, classification.config, reference.config

include(GNUInstallDirs)

set(SW_PKG_DIR ${CMAKE_CURRENT_LIST_DIR})
set(SW_PKG_STAGE ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${SW_PKG_STAGE})

# Bundled rules: the project's own ruleset and classification.config.
set(SW_RULES_SRC ${CMAKE_SOURCE_DIR}/signatures/rules CACHE PATH "Rules bundled in the package")

# Default config: packaging/spanwatch.yaml when the lead has merged one,
# otherwise every module's commented fragment in packaging/config.d, joined
# (each fragment owns distinct top-level keys, so the join is one YAML map).
if(EXISTS ${SW_PKG_DIR}/spanwatch.yaml)
  configure_file(${SW_PKG_DIR}/spanwatch.yaml ${SW_PKG_STAGE}/spanwatch.yaml COPYONLY)
else()
  file(GLOB SW_CFG_FRAGMENTS CONFIGURE_DEPENDS ${SW_PKG_DIR}/config.d/*.yaml)
  list(SORT SW_CFG_FRAGMENTS)
  set(SW_CFG_TEXT "%YAML 1.1\n---\n# spanwatch default configuration (/etc/spanwatch/spanwatch.yaml).\n")
  foreach(f ${SW_CFG_FRAGMENTS})
    file(READ ${f} frag)
    get_filename_component(fname ${f} NAME)
    string(APPEND SW_CFG_TEXT "\n# ---- ${fname}\n${frag}")
  endforeach()
  file(WRITE ${SW_PKG_STAGE}/spanwatch.yaml.in "${SW_CFG_TEXT}")
  configure_file(${SW_PKG_STAGE}/spanwatch.yaml.in ${SW_PKG_STAGE}/spanwatch.yaml COPYONLY)
endif()

if(NOT SW_PACKAGE_NO_BINARY)
  install(TARGETS spanwatch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(FILES ${SW_PKG_STAGE}/spanwatch.yaml DESTINATION /etc/spanwatch
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${SW_PKG_DIR}/spanwatch.default DESTINATION /etc/default RENAME spanwatch)
install(FILES ${SW_PKG_DIR}/logrotate DESTINATION /etc/logrotate.d RENAME spanwatch)
install(FILES ${SW_PKG_DIR}/spanwatch.service DESTINATION /lib/systemd/system)
if(EXISTS ${SW_RULES_SRC})
  install(DIRECTORY ${SW_RULES_SRC}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/spanwatch/rules
          FILES_MATCHING PATTERN "*.rules" PATTERN "*.config"
                         PATTERN "LICENSE" PATTERN "*.txt" PATTERN "*.md")
  if(EXISTS ${SW_RULES_SRC}/classification.config)
    install(FILES ${SW_RULES_SRC}/classification.config DESTINATION /etc/spanwatch)
  endif()
endif()

# Files under /etc are the admin's: dpkg keeps local changes on upgrade.
set(SW_CONFFILES "/etc/spanwatch/spanwatch.yaml\n/etc/default/spanwatch\n/etc/logrotate.d/spanwatch\n")
if(EXISTS ${SW_RULES_SRC}/classification.config)
  string(APPEND SW_CONFFILES "/etc/spanwatch/classification.config\n")
endif()
file(WRITE ${SW_PKG_STAGE}/conffiles "${SW_CONFFILES}")
foreach(s postinst prerm postrm)
  configure_file(${SW_PKG_DIR}/${s} ${SW_PKG_STAGE}/${s} COPYONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                                  GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "spanwatch")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "spanwatch")
set(CPACK_PACKAGE_CONTACT "spanwatch maintainers <spanwatch@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Passive network sensor writing Suricata-compatible EVE JSON")
set(CPACK_PACKAGE_DESCRIPTION "spanwatch watches a SPAN port or TAP, decodes DNS, HTTP and TLS,
matches Suricata rules and IoC lists, detects beacons and ships EVE JSON
events to files, sockets, syslog or Redis without loss.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Library dependencies come from dpkg-shlibdeps on the built binary.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, python3")  # python3: spanwatch-report, spanwatch-ioc
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "logrotate")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "geoipupdate, redis-server, rsyslog")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${SW_PKG_STAGE}/postinst;${SW_PKG_STAGE}/prerm;${SW_PKG_STAGE}/postrm;${SW_PKG_STAGE}/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# Keep debug symbols out of the package; the binary stays hardened
# (PIE, full RELRO, stack protector, FORTIFY from CMakeLists.txt).
set(CPACK_STRIP_FILES TRUE)
include(CPack)
