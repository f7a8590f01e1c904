# Installing kpiwatch as a service, and the Debian package (CPack DEB).
# Included once from the top-level CMakeLists.txt. docs/OPERATIONS.md explains
# the result; tests/package/ checks it.
#
#   <prefix>/bin/kpiwatch                         (daemon/CMakeLists.txt)
#   <prefix>/lib/systemd/system/kpiwatch.service  ExecStart= points at <prefix>/bin
#   <prefix>/lib/sysusers.d/kpiwatch.conf         the user the service runs as
#   /etc/kpiwatch/kpiwatch.toml                   config/kpiwatch.service.toml, 0640
#   /etc/kpiwatch/rules.d/*.toml                  the shipped rules (config/rules)
#   <prefix>/share/kpiwatch/                      catalog, bundled dataset, pristine rules and their tests
#   <prefix>/share/doc/kpiwatch/                  README, docs/*.md, docs/ja/, kpiwatch.example.toml
#
# The .deb uses the prefix /usr. The config lives in /etc/kpiwatch whatever the
# prefix (the unit's ConfigurationDirectory=); `cmake --install` keeps files
# already there, so that re-installing never undoes an operator's edits (the
# .deb marks them as conffiles instead). Use DESTDIR to install elsewhere.

file(GLOB kpiwatch_rule_files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/config/rules/*.toml)
file(GLOB kpiwatch_rule_tests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/config/rules/tests/*.toml)
file(GLOB kpiwatch_docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)

# Files whose content or place depends on the prefix, and the /etc files.
install(CODE "
  set(KPIWATCH_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(KPIWATCH_BINARY_DIR \"${PROJECT_BINARY_DIR}\")
  set(KPIWATCH_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(KPIWATCH_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")
  set(KPIWATCH_RULE_FILES \"${kpiwatch_rule_files}\")")
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/install_service.cmake)

install(FILES ${PROJECT_SOURCE_DIR}/systemd/kpiwatch.sysusers DESTINATION lib/sysusers.d RENAME kpiwatch.conf)
install(FILES ${PROJECT_SOURCE_DIR}/config/catalog.toml DESTINATION ${CMAKE_INSTALL_DATADIR}/kpiwatch)
install(FILES ${PROJECT_SOURCE_DIR}/config/dataset/bundled.json DESTINATION ${CMAKE_INSTALL_DATADIR}/kpiwatch/dataset)
install(FILES ${kpiwatch_rule_files} DESTINATION ${CMAKE_INSTALL_DATADIR}/kpiwatch/rules)
install(FILES ${kpiwatch_rule_tests} DESTINATION ${CMAKE_INSTALL_DATADIR}/kpiwatch/rules/tests)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${kpiwatch_docs} ${PROJECT_SOURCE_DIR}/config/kpiwatch.example.toml
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The guide for policy staff, in Japanese, with the example rules it walks through.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ja DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Debian package.
set(kpiwatch_conffiles "/etc/kpiwatch/kpiwatch.toml\n")
foreach(rule ${kpiwatch_rule_files})
  get_filename_component(name ${rule} NAME)
  string(APPEND kpiwatch_conffiles "/etc/kpiwatch/rules.d/${name}\n")
endforeach()
file(WRITE ${PROJECT_BINARY_DIR}/debian/conffiles "${kpiwatch_conffiles}")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME kpiwatch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "kpiwatch maintainers <maintainers@kpiwatch.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "follow-up of policy-plan KPIs: submissions, threshold rules, alerts")
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
       "kpiwatch keeps the KPI figures that reporting bodies submit over HTTP or as\n"
       "CSV/JSON files as append-only revisions in SQLite, evaluates follow-up rules\n"
       "on them and sends alerts to webhooks. It runs as a hardened systemd service,\n"
       "kpiwatch.service. The catalog and the figures of Japan's 2nd Medical Device\n"
       "Basic Plan are bundled.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Installed with DESTDIR=<staging directory> and the prefix /usr, so that the
# absolute destinations (/etc/kpiwatch) land in the package, never on this machine.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# Library dependencies from dpkg-shlibdeps; the postinst creates the user with
# systemd-sysusers, or adduser where systemd is not installed.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# tzdata: the time zones of digests and of the times written in emails.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser, tzdata")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/debian/conffiles
    ${PROJECT_SOURCE_DIR}/systemd/debian/postinst
    ${PROJECT_SOURCE_DIR}/systemd/debian/prerm
    ${PROJECT_SOURCE_DIR}/systemd/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
