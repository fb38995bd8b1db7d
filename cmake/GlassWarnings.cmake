# Warning sets. CORE adds -Wconversion (STYLE.md §7.1); TOOL and TEST keep the base set.
function(glass_target_warnings target kind)
  set(_base -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes
            -Wmissing-prototypes -Wformat=2)
  if(kind STREQUAL "CORE")
    list(APPEND _base -Wconversion -Wsign-conversion)
  elseif(kind STREQUAL "TEST")
    set(_base -Wall -Wextra -Werror -Wshadow -Wno-override-init -Wno-missing-field-initializers)
  endif()
  target_compile_options(${target} PRIVATE ${_base})
endfunction()
