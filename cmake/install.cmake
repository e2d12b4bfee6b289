# What `cmake --install` installs and `cpack -G DEB` packages: the one place
# that says so. A user's project then does
#
#   find_package(vfsim CONFIG REQUIRED)
#   target_link_libraries(my_test PRIVATE vfsim::vfsim)
#
# and includes "boot/ukfs.h", "scenarios/registry.h", ... (examples/ shows
# both uses). Installed:
#   bin/vfsim                          the command
#   lib/libvfsim_*.a                   the libraries of the public surface
#   include/vfsim/<layer>/*.h          their headers, laid out as in the tree
#   lib/cmake/vfsim/                   the package config and its targets
#   share/vfsim/scenarios, share/doc/vfsim   the shipped scenarios, the docs
#
# To add a layer or a library (boot/, fsdrivers/fuse): add it to the lists
# below. A CMake helper a layer gives users (vfsim_add_fuse_fs) goes in
# VFSIM_INSTALL_CMAKE_MODULES; the package config includes each.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Libraries, bottom to top. vfsim::vfsim links them all (the scenario engine
# with every module, ukfs, the drivers).
set(VFSIM_INSTALL_TARGETS
  vfsim_sim vfsim_pager vfsim_vnode vfsim_memfs vfsim_ext2core vfsim_ext2 vfsim_puffs
  vfsim_fuse_abi vfsim_fuse)
# FUSE's runtime when libfuse3-dev was found (fsdrivers/fuse): the rewritten
# libfuse3 archive is installed beside it (libfuse3_vfsim.a, LGPL-2.1).
if(TARGET vfsim_fuse_runtime)
  list(APPEND VFSIM_INSTALL_TARGETS vfsim_fuse_runtime)
  install(FILES ${VFSIM_LIBFUSE3_RW} DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
list(APPEND VFSIM_INSTALL_TARGETS
  vfsim_vfs vfsim_boot vfsim_scenario_api vfsim_scenario_modules vfsim_scenarios)
# Directories whose headers are installed (every *.h but tests'): the public
# headers include their layers' others.
set(VFSIM_INSTALL_HEADER_DIRS sim pager vnode vfs fsdrivers boot scenarios)
# CMake files that define functions for users, included by the config.
set(VFSIM_INSTALL_CMAKE_MODULES "")

set(VFSIM_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/vfsim)
set(VFSIM_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/vfsim)

# Include directories point into the source tree; an installed target's
# point to the same place under include/vfsim.
foreach(t IN LISTS VFSIM_INSTALL_TARGETS)
  get_target_property(dirs ${t} INTERFACE_INCLUDE_DIRECTORIES)
  if(NOT dirs)
    continue()
  endif()
  set(mapped "")
  foreach(d IN LISTS dirs)
    if(d MATCHES "^\\$<")
      list(APPEND mapped "${d}")
      continue()
    endif()
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${d})
    if(rel MATCHES "^\\.\\.")  # outside the tree (libfuse3's headers): as it is
      list(APPEND mapped "${d}")
      continue()
    endif()
    set(inst ${VFSIM_INSTALL_INCLUDEDIR})
    if(rel)
      set(inst ${VFSIM_INSTALL_INCLUDEDIR}/${rel})
    endif()
    list(APPEND mapped "$<BUILD_INTERFACE:${d}>" "$<INSTALL_INTERFACE:${inst}>")
  endforeach()
  set_target_properties(${t} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${mapped}")
endforeach()

add_library(vfsim_all INTERFACE)
target_link_libraries(vfsim_all INTERFACE ${VFSIM_INSTALL_TARGETS})
target_compile_features(vfsim_all INTERFACE cxx_std_20)
set_target_properties(vfsim_all PROPERTIES EXPORT_NAME vfsim)
add_library(vfsim::vfsim ALIAS vfsim_all)

install(TARGETS ${VFSIM_INSTALL_TARGETS} vfsim_all EXPORT vfsimTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${VFSIM_INSTALL_INCLUDEDIR})
install(TARGETS vfsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(dir IN LISTS VFSIM_INSTALL_HEADER_DIRS)
  install(DIRECTORY ${dir}/ DESTINATION ${VFSIM_INSTALL_INCLUDEDIR}/${dir}
          FILES_MATCHING PATTERN "*.h" PATTERN "tests" EXCLUDE)
endforeach()
install(EXPORT vfsimTargets NAMESPACE vfsim:: DESTINATION ${VFSIM_INSTALL_CMAKEDIR})

set(VFSIM_CONFIG_MODULES "")
foreach(m IN LISTS VFSIM_INSTALL_CMAKE_MODULES)
  get_filename_component(name ${m} NAME)
  string(APPEND VFSIM_CONFIG_MODULES "include(\"\${CMAKE_CURRENT_LIST_DIR}/${name}\")\n")
endforeach()
configure_package_config_file(cmake/vfsimConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/vfsimConfig.cmake INSTALL_DESTINATION ${VFSIM_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/vfsimConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/vfsimConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/vfsimConfigVersion.cmake ${VFSIM_INSTALL_CMAKE_MODULES}
        DESTINATION ${VFSIM_INSTALL_CMAKEDIR})

install(DIRECTORY scenarios/ DESTINATION ${CMAKE_INSTALL_DATADIR}/vfsim/scenarios
        FILES_MATCHING PATTERN "*.json" PATTERN "tests" EXCLUDE)
install(FILES docs/scenario.schema.json DESTINATION ${CMAKE_INSTALL_DATADIR}/vfsim)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")

# cpack -G DEB (run in the build tree): a Debian package of the above. The
# command links Boost statically; a project built against the libraries
# needs Boost.Fiber's and nlohmann-json's development files.
set(CPACK_PACKAGE_NAME vfsim)
set(CPACK_PACKAGE_VENDOR "vfsim")
set(CPACK_PACKAGE_CONTACT "vfsim developers <vfsim@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "deterministic simulation of a BSD kernel's file-system stack (command and libraries)")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libboost-fiber-dev (>= 1.74), libboost-context-dev (>= 1.74), nlohmann-json3-dev (>= 3)")
include(CPack)

# The install and the package, tested (cmake/install_test.sh): a prefix
# that examples/ builds against, and the .deb's contents.
if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  add_test(NAME install.examples
           COMMAND ${PROJECT_SOURCE_DIR}/cmake/install_test.sh ${PROJECT_BINARY_DIR}
                   ${PROJECT_SOURCE_DIR} install)
  add_test(NAME install.deb
           COMMAND ${PROJECT_SOURCE_DIR}/cmake/install_test.sh ${PROJECT_BINARY_DIR}
                   ${PROJECT_SOURCE_DIR} deb)
  set_tests_properties(install.examples install.deb PROPERTIES TIMEOUT 900
                       SKIP_RETURN_CODE 77)
endif()
