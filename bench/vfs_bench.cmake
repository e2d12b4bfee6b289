add_executable(vfs_bench vfs_bench.cc)
target_link_libraries(vfs_bench PRIVATE vfsim_boot benchmark::benchmark)
vfsim_warnings(vfs_bench)
