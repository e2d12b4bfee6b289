# Bring your own FUSE file system (docs/fuse.md):
#
#   vfsim_add_fuse_fs(NAME SOURCES src... [ARCHIVES lib.a...] [LIBS lib...]
#                     [DEFINES def...] [INCLUDES dir...])
#       compiles an unmodified libfuse3 file system (low-level or high-level
#       API, C or C++) for the simulator: its main is renamed at compile time
#       (-Dmain=vfsim_fuse_main_NAME), and its objects are rewritten like
#       libfuse's (objcopy: pthread, semaphore, clock, sleep, realpath,
#       close and malloc-family calls go to the shim, writable sections move
#       into the ranges reset before each run). ARCHIVES are prebuilt static
#       archives of the file system's own foreign code (e.g. Debian's
#       libsquashfuse_ll.a), rewritten the same way; LIBS are linked as they
#       are (system libraries: zlib, ...). The result is the interface target
#       vfsim_fusefs_NAME.
#   vfsim_link_fuse_fs(TARGET NAME...)
#       links file systems into an executable and generates its registry
#       (vfsim::fuse::linked_file_systems(), fs_registry.h), which the
#       fuse.mount op and the tests look NAME up in.
#   vfsim_fuse_example(VAR FILE)
#       the path of FILE among Debian's libfuse3 examples: the installed file,
#       or (if the package ships it gzipped) a copy decompressed into the build
#       tree at build time. The examples are GPLv2: they are compiled from the
#       installed package, never copied into the repository.
#
# Why rewrite objects (objcopy) rather than wrap at link time (ld --wrap):
# --wrap redirects a symbol in every object of the final link, so vfsim's
# own code, Boost.Fiber, the test framework and the C++ runtime would have
# their pthread calls turned into sim primitives too; the rewrite touches
# exactly the foreign objects (libfuse and the file systems), needs no link
# flag in the executables that use them, and can also weaken the libfuse
# entry points the shim replaces and move the foreign writable data into
# sections of its own.

set(VFSIM_FUSE_DIR ${CMAKE_CURRENT_LIST_DIR}/../fsdrivers/fuse)
set(VFSIM_FUSE_SYMS ${VFSIM_FUSE_DIR}/runtime/shim.syms)
set(VFSIM_FUSE_EXAMPLES_DIR /usr/share/doc/libfuse3-dev/examples)
find_program(VFSIM_OBJCOPY NAMES objcopy REQUIRED)
find_path(VFSIM_FUSE3_INCLUDE fuse_lowlevel.h PATH_SUFFIXES fuse3)
find_file(VFSIM_LIBFUSE3_A libfuse3.a PATHS /usr/lib/x86_64-linux-gnu /usr/lib /usr/local/lib)

# objcopy arguments shared by libfuse and the file systems: the shim's
# renames and the writable sections moved into the reset ranges.
set(VFSIM_FUSE_OBJCOPY_ARGS
  --redefine-syms=${VFSIM_FUSE_SYMS}
  --rename-section .data=vfsim_fuse_data
  --rename-section .data.rel.local=vfsim_fuse_data
  --rename-section .data.rel=vfsim_fuse_data
  --rename-section .bss=vfsim_fuse_bss)

# The libfuse entry points the shim replaces (shim.cc): weakened in the copy.
set(VFSIM_FUSE_WEAKEN
  fuse_session_mount fuse_session_unmount
  fuse_session_loop_mt_312 fuse_session_loop_mt_32 fuse_session_loop_mt_31
  fuse_session_loop_mt@@FUSE_3.12
  fuse_daemonize fuse_set_signal_handlers fuse_remove_signal_handlers)

function(vfsim_fuse_example VAR FILE)
  if(EXISTS ${VFSIM_FUSE_EXAMPLES_DIR}/${FILE})
    set(${VAR} ${VFSIM_FUSE_EXAMPLES_DIR}/${FILE} PARENT_SCOPE)
  elseif(EXISTS ${VFSIM_FUSE_EXAMPLES_DIR}/${FILE}.gz)
    set(out ${CMAKE_BINARY_DIR}/fuse_examples/${FILE})
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/fuse_examples
      COMMAND sh -c "gzip -dc '${VFSIM_FUSE_EXAMPLES_DIR}/${FILE}.gz' > '${out}'"
      DEPENDS ${VFSIM_FUSE_EXAMPLES_DIR}/${FILE}.gz
      COMMENT "Decompressing libfuse example ${FILE}")
    set(${VAR} ${out} PARENT_SCOPE)
  else()
    message(FATAL_ERROR "libfuse3 example ${FILE} not found in ${VFSIM_FUSE_EXAMPLES_DIR} (install libfuse3-dev)")
  endif()
endfunction()

function(vfsim_add_fuse_fs NAME)
  cmake_parse_arguments(ARG "" "" "SOURCES;ARCHIVES;LIBS;DEFINES;INCLUDES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "vfsim_add_fuse_fs(${NAME}): no SOURCES")
  endif()
  if(NOT NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "vfsim_add_fuse_fs: NAME '${NAME}' must be a C identifier")
  endif()
  set(raw vfsim_fusefs_${NAME}_raw)
  add_library(${raw} STATIC ${ARG_SOURCES})
  target_compile_definitions(${raw} PRIVATE main=vfsim_fuse_main_${NAME} ${ARG_DEFINES})
  target_include_directories(${raw} PRIVATE ${VFSIM_FUSE3_INCLUDE} ${ARG_INCLUDES})
  # Foreign code: its warnings are not ours; unwind tables so that a run's
  # end can unwind an lwp through its frames.
  target_compile_options(${raw} PRIVATE -w -fexceptions -fasynchronous-unwind-tables)
  set(lang C)
  foreach(src IN LISTS ARG_SOURCES)
    if(src MATCHES "\\.(cc|cpp|cxx|C)$")
      set(lang CXX)
    endif()
  endforeach()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/libvfsim_fusefs_${NAME}.a)
  add_custom_command(OUTPUT ${out}
    COMMAND ${VFSIM_OBJCOPY} ${VFSIM_FUSE_OBJCOPY_ARGS} $<TARGET_FILE:${raw}> ${out}
    DEPENDS ${raw} ${VFSIM_FUSE_SYMS}
    COMMENT "Rewriting FUSE file system ${NAME} for the simulator")
  set(archives "")
  foreach(a IN LISTS ARG_ARCHIVES)
    get_filename_component(base ${a} NAME_WE)
    set(rw ${CMAKE_CURRENT_BINARY_DIR}/libvfsim_fusefs_${NAME}_${base}.a)
    add_custom_command(OUTPUT ${rw}
      COMMAND ${VFSIM_OBJCOPY} ${VFSIM_FUSE_OBJCOPY_ARGS} ${a} ${rw}
      DEPENDS ${a} ${VFSIM_FUSE_SYMS}
      COMMENT "Rewriting ${base}.a of FUSE file system ${NAME} for the simulator")
    list(APPEND archives ${rw})
  endforeach()
  add_custom_target(vfsim_fusefs_${NAME}_rewrite DEPENDS ${out} ${archives})
  add_library(vfsim_fusefs_${NAME} INTERFACE)
  target_link_libraries(vfsim_fusefs_${NAME} INTERFACE ${out} ${archives} vfsim_fuse_runtime ${ARG_LIBS})
  add_dependencies(vfsim_fusefs_${NAME} vfsim_fusefs_${NAME}_rewrite)
  set_property(TARGET vfsim_fusefs_${NAME} PROPERTY VFSIM_FUSE_LANG ${lang})
  # Every file system added anywhere is offered by the vfsim command
  # (cli/CMakeLists.txt links them all: `fuse.mount {"fs": NAME}`).
  set_property(GLOBAL APPEND PROPERTY VFSIM_FUSE_ALL_FS ${NAME})
endfunction()

function(vfsim_link_fuse_fs TARGET)
  set(decls "")
  set(rows "")
  foreach(fs IN LISTS ARGN)
    if(NOT TARGET vfsim_fusefs_${fs})
      message(FATAL_ERROR "vfsim_link_fuse_fs(${TARGET}): no FUSE file system '${fs}' (vfsim_add_fuse_fs)")
    endif()
    get_property(lang TARGET vfsim_fusefs_${fs} PROPERTY VFSIM_FUSE_LANG)
    if(lang STREQUAL "C")
      string(APPEND decls "extern \"C\" int vfsim_fuse_main_${fs}(int, char**);\n")
    else()
      string(APPEND decls "int vfsim_fuse_main_${fs}(int, char**);\n")
    endif()
    string(APPEND rows "      {\"${fs}\", &vfsim_fuse_main_${fs}},\n")
    target_link_libraries(${TARGET} PRIVATE vfsim_fusefs_${fs})
  endforeach()
  set(table ${CMAKE_CURRENT_BINARY_DIR}/${TARGET}_fuse_fs_table.cc)
  file(CONFIGURE OUTPUT ${table} CONTENT
"// Generated by vfsim_link_fuse_fs(${TARGET}): the FUSE file systems linked here.
#include \"fsdrivers/fuse/runtime/fs_registry.h\"

${decls}
namespace vfsim::fuse {
std::span<const FsEntry> linked_file_systems() {
  static constexpr FsEntry kTable[] = {
${rows}      {nullptr, nullptr}};
  return std::span<const FsEntry>(kTable, std::size(kTable) - 1);
}
}  // namespace vfsim::fuse
" @ONLY)
  target_sources(${TARGET} PRIVATE ${table})
  target_link_libraries(${TARGET} PRIVATE vfsim_fuse_runtime)
endfunction()
