# The op mix through memfs, puffs and FUSE (issue 14): needs the FUSE runtime.
if(TARGET vfsim_fuse_runtime)
  add_executable(fuse_bench fuse_bench.cc)
  target_link_libraries(fuse_bench PRIVATE vfsim_fuse_runtime vfsim_boot benchmark::benchmark)
  vfsim_link_fuse_fs(fuse_bench memfs_ll)
  vfsim_warnings(fuse_bench)
endif()
