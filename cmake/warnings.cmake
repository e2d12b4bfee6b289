# Warning flags shared by every vfsim target: vfsim_warnings(target).
function(vfsim_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
  if(VFSIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
