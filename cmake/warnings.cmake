# Warning flags shared by every vfsim target: vfsim_warnings(target).
function(vfsim_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports false -Wrestrict/-Wstringop-overflow positives inside
    # libstdc++'s std::string at -O3 (GCC bug 105329 and friends).
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-stringop-overflow)
  endif()
  if(VFSIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
