# Install-time part of cmake/packaging.cmake (run by `cmake --install` and by
# CPack): the unit, with ExecStart= and Documentation= pointing into the
# prefix, and the /etc/kpiwatch files, kept if already there.
# Set before this runs: KPIWATCH_SOURCE_DIR, KPIWATCH_BINARY_DIR, KPIWATCH_BINDIR,
# KPIWATCH_DOCDIR, KPIWATCH_RULE_FILES.

file(READ "${KPIWATCH_SOURCE_DIR}/systemd/kpiwatch.service" unit)
string(REPLACE "/usr/bin/kpiwatch" "${CMAKE_INSTALL_PREFIX}/${KPIWATCH_BINDIR}/kpiwatch" unit "${unit}")
string(REPLACE "/usr/share/doc/kpiwatch" "${CMAKE_INSTALL_PREFIX}/${KPIWATCH_DOCDIR}" unit "${unit}")
file(WRITE "${KPIWATCH_BINARY_DIR}/systemd/kpiwatch.service" "${unit}")
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
     FILES "${KPIWATCH_BINARY_DIR}/systemd/kpiwatch.service")

# Installs `source` as `destination` (absolute, under DESTDIR) unless it exists.
function(install_kept source destination)
  if(EXISTS "$ENV{DESTDIR}${destination}")
    message(STATUS "Kept (already there): $ENV{DESTDIR}${destination}")
    return()
  endif()
  get_filename_component(dir "${destination}" DIRECTORY)
  get_filename_component(name "${destination}" NAME)
  file(INSTALL DESTINATION "${dir}" TYPE FILE RENAME "${name}" PERMISSIONS ${ARGN} FILES "${source}")
endfunction()

# Token hashes and webhook secrets: not world-readable; the group becomes
# kpiwatch (the postinst, or `chgrp kpiwatch` after `cmake --install`).
install_kept("${KPIWATCH_SOURCE_DIR}/config/kpiwatch.service.toml" /etc/kpiwatch/kpiwatch.toml
             OWNER_READ OWNER_WRITE GROUP_READ)
foreach(rule ${KPIWATCH_RULE_FILES})
  get_filename_component(name "${rule}" NAME)
  install_kept("${rule}" "/etc/kpiwatch/rules.d/${name}" OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()
