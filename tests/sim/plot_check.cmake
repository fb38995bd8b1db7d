# `glass sim --plot FILE.png`: with gnuplot, exit 0 and a PNG file; without it, exit 1 and a
# one-line message naming gnuplot.
#   cmake -DGLASS=path/to/glass -DOUT=file.png -P plot_check.cmake
cmake_minimum_required(VERSION 3.20)
file(REMOVE ${OUT})
find_program(GNUPLOT gnuplot)
execute_process(COMMAND ${GLASS} sim --bytes 200000 --loss 0.03 --seed 4 --plot ${OUT} --quiet
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 280)
if(GNUPLOT)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "glass sim --plot exited with ${rc}\n${out}${err}")
  endif()
  if(NOT EXISTS ${OUT})
    message(FATAL_ERROR "glass sim --plot did not write ${OUT}")
  endif()
  file(READ ${OUT} head LIMIT 8 HEX)
  if(NOT head STREQUAL "89504e470d0a1a0a")
    message(FATAL_ERROR "${OUT} is not a PNG file (starts with ${head})")
  endif()
  file(REMOVE ${OUT})
else()
  if(NOT rc EQUAL 1 OR NOT err MATCHES "gnuplot")
    message(FATAL_ERROR "without gnuplot, glass sim --plot should exit 1 naming gnuplot; "
                        "got ${rc}\n${out}${err}")
  endif()
endif()
