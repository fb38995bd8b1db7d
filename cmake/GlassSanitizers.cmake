# ASan + UBSan for the whole tree (CI runs the suite twice: plain and sanitized).
if(GLASS_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
