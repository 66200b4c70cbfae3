# ctest bench_backtest_scale_other: not a timing (ctest never times a
# bench), the A/B mode's plumbing. One build against itself: both net PnLs
# printed and the run-for-run ratio; against a fake build whose qtr reports
# another net PnL: exit 1, saying so; against a folder with no qtr: exit 1.
# The bench's folder of CSV files is gone after each run.
# cmake -DBENCH=<bench_backtest_scale> -DSELF=<build> -DWORK=<folder> -P check_other.cmake
function(run_bench other out_var rc_var err_var)
  set(ENV{QTR_BENCH_OTHER} ${other})
  execute_process(COMMAND ${BENCH} 1 1 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 600)
  # its folder of CSV files is gone, whether it succeeded or not
  if(out MATCHES "^bench_backtest_scale:")   # it started (a refused QTR_BENCH_OTHER does not)
    if(NOT out MATCHES "its files in ([^ ]+) \\(removed at exit\\)")
      message(FATAL_ERROR "the bench did not say where its files are:\n${out}")
    endif()
    if(EXISTS "${CMAKE_MATCH_1}")
      message(FATAL_ERROR "the bench left ${CMAKE_MATCH_1} behind (exit ${rc})")
    endif()
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
  set(${err_var} "${err}" PARENT_SCOPE)
endfunction()

run_bench(${SELF} out rc err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "against itself: exit ${rc}\n${out}\n${err}")
endif()
foreach(want "  other qtr:    \"net_pnl\":\"-64.23854983\"" "cpu time other qtr / qtr, run for run:")
  string(FIND "${out}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "against itself: no '${want}' in\n${out}")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/fake)
file(WRITE ${WORK}/fake/qtr
  "#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = --json ] && printf '{\"net_pnl\":\"1\"}\\n' > \"$2\"; shift; done\nexit 0\n")
file(CHMOD ${WORK}/fake/qtr PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
run_bench(${WORK}/fake out rc err)
string(FIND "${err}" "the two builds disagree on the net PnL: -64.23854983 against 1" at)
if(rc EQUAL 0 OR at EQUAL -1)
  message(FATAL_ERROR "against a build that disagrees: exit ${rc}, stderr:\n${err}")
endif()

run_bench(${WORK}/none out rc err)
string(FIND "${err}" "QTR_BENCH_OTHER: no ${WORK}/none/qtr" at)
if(rc EQUAL 0 OR at EQUAL -1)
  message(FATAL_ERROR "against a folder without qtr: exit ${rc}, stderr:\n${err}")
endif()
file(REMOVE_RECURSE ${WORK})
