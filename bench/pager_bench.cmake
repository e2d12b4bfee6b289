# Included by bench/CMakeLists.txt: the page cache against a plain memcpy.
add_executable(pager_bench ${CMAKE_CURRENT_SOURCE_DIR}/pager_bench.cc)
target_link_libraries(pager_bench PRIVATE vfsim_pager benchmark::benchmark)
vfsim_warnings(pager_bench)
