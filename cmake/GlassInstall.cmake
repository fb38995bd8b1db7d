# Installation (docs/install.md): what `make install` / `cmake --install` put under the prefix.
#
#   bin/glass                                  the CLI
#   lib/libglass.a, lib/libglass.so.0.1[.0]    the library, static and shared (soname libglass.so.0.MINOR)
#   include/glass/*.h                          the public headers
#   lib/pkgconfig/glass.pc                     pkg-config: cc $(pkg-config --cflags --libs glass)
#   lib/cmake/glass/                           find_package(glass): glass::glass, glass::glass_static
#   share/man/man1/glass*.1                    man pages, generated from --help (help2man)
#   share/bash-completion/completions/glass    bash completion
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS glass_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS glass_static glass_shared EXPORT glassTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/glass DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")

# The CMake package: glassTargets.cmake (the imported targets), glassConfig.cmake and the version
# check. 0.x releases are compatible only within one minor version (docs/versioning.md).
set(GLASS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/glass)
install(EXPORT glassTargets NAMESPACE glass:: DESTINATION ${GLASS_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/glassConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/glassConfig.cmake
                              INSTALL_DESTINATION ${GLASS_CMAKE_DIR})
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_glass_compat SameMinorVersion)
else()
  set(_glass_compat SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/glassConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY ${_glass_compat})
install(FILES ${PROJECT_BINARY_DIR}/glassConfig.cmake ${PROJECT_BINARY_DIR}/glassConfigVersion.cmake
        DESTINATION ${GLASS_CMAKE_DIR})

# glass.pc finds the prefix from its own place (${pcfiledir}), so `cmake --install --prefix P`
# gives a working file for any P.
file(RELATIVE_PATH GLASS_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" GLASS_PC_TO_PREFIX "${GLASS_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/glass.pc.in ${PROJECT_BINARY_DIR}/glass.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/glass.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Bash completion: it reads the command list and each command's options from `glass --help`
# and `glass CMD --help` when it runs, so it cannot fall behind the CLI.
install(FILES ${PROJECT_SOURCE_DIR}/scripts/glass-completion.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME glass)

# Man pages: glass(1) and glass-CMD(1) for every command `glass --help` lists, made by help2man
# from the --help texts at build time (scripts/gen_man.sh; docs/install.md says why).
find_program(GLASS_HELP2MAN help2man)
if(GLASS_HELP2MAN)
  set(GLASS_MAN_DIR ${PROJECT_BINARY_DIR}/man)
  add_custom_command(OUTPUT ${GLASS_MAN_DIR}/stamp
                     COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/gen_man.sh
                             $<TARGET_FILE:glass_cli> ${GLASS_MAN_DIR} ${GLASS_HELP2MAN}
                     DEPENDS glass_cli ${PROJECT_SOURCE_DIR}/scripts/gen_man.sh
                             ${PROJECT_SOURCE_DIR}/scripts/help2man_filter.awk
                             ${PROJECT_SOURCE_DIR}/docs/man/common.h2m
                     COMMENT "man pages from glass --help (help2man)" VERBATIM)
  add_custom_target(glass_man ALL DEPENDS ${GLASS_MAN_DIR}/stamp)
  install(DIRECTORY ${GLASS_MAN_DIR}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
          FILES_MATCHING PATTERN "*.1")
else()
  message(STATUS "help2man not found: no man pages (scripts/deps.sh installs it)")
endif()

# API reference (docs/install.md, "API reference"): Doxygen over include/glass/ with WARN_AS_ERROR; the ctest test
# api_docs runs it, so an undocumented public function fails the suite.
find_program(GLASS_DOXYGEN doxygen)
if(GLASS_DOXYGEN)
  configure_file(${PROJECT_SOURCE_DIR}/docs/api/Doxyfile.in ${PROJECT_BINARY_DIR}/Doxyfile @ONLY)
  add_custom_target(api_docs COMMAND ${GLASS_DOXYGEN} ${PROJECT_BINARY_DIR}/Doxyfile
                    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
                    COMMENT "API reference: ${PROJECT_BINARY_DIR}/api/html/index.html" VERBATIM)
else()
  message(STATUS "doxygen not found: no API reference (scripts/deps.sh installs it)")
endif()
