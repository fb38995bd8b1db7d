# Run a command and check its exit status and, optionally, its output.
#   cmake -DEXPECT_EXIT=N [-DEXPECT_REGEX_1=re [-DEXPECT_REGEX_2=re ...]] -P expect_exit.cmake -- CMD [ARGS...]
# EXPECT_EXIT defaults to 0. Every EXPECT_REGEX_<n> (n = 1..9) must match stdout + stderr.
cmake_minimum_required(VERSION 3.20)

set(cmd)
set(after_dashes FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(after_dashes)
    string(REPLACE ";" "\\;" arg "${CMAKE_ARGV${i}}")
    list(APPEND cmd "${arg}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(after_dashes TRUE)
  endif()
endforeach()
if(NOT cmd)
  message(FATAL_ERROR "expect_exit.cmake: no command given after --")
endif()
if(NOT DEFINED EXPECT_EXIT)
  set(EXPECT_EXIT 0)
endif()

execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 280)
set(all "${out}${err}")
list(JOIN cmd " " cmd_text)

if(NOT rc STREQUAL "${EXPECT_EXIT}")
  message(FATAL_ERROR "`${cmd_text}` exited with ${rc}, expected ${EXPECT_EXIT}\n"
                      "--- output ---\n${all}")
endif()
foreach(i RANGE 1 9)
  set(re "${EXPECT_REGEX_${i}}")
  if(DEFINED EXPECT_REGEX_${i} AND NOT all MATCHES "${re}")
    message(FATAL_ERROR "`${cmd_text}`: output does not match /${re}/\n--- output ---\n${all}")
  endif()
endforeach()
