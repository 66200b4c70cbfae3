# ctest bench_backtest_scale_ma: not a timing, QTR_BENCH_MA's plumbing. Each
# pair runs in both qtr and the minimal loop, and the two agree on the net
# PnL to the unit; the pairs trade differently (the pair reached both); a
# pair the loop was not compiled for is refused with exit 2, naming it.
# cmake -DBENCH=<bench_backtest_scale> -P check_ma.cmake
set(ENV{QTR_BENCH_SYMBOLS} 1)

# the loop's fills and both net PnLs of a run with QTR_BENCH_MA=ma
function(run_pair ma fills_var)
  set(ENV{QTR_BENCH_MA} ${ma})
  execute_process(COMMAND ${BENCH} 1 1 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 600)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "QTR_BENCH_MA=${ma}: exit ${rc}\n${out}\n${err}")
  endif()
  string(FIND "${out}" "ma_cross ${ma};" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "QTR_BENCH_MA=${ma}: no 'ma_cross ${ma};' in\n${out}")
  endif()
  if(NOT out MATCHES "minimal loop: [0-9]+ candles, ([0-9]+) fills, net PnL (-?[0-9]+\\.[0-9]+) USDT")
    message(FATAL_ERROR "QTR_BENCH_MA=${ma}: no loop totals in\n${out}")
  endif()
  set(fills ${CMAKE_MATCH_1})
  set(loop_pnl ${CMAKE_MATCH_2})
  if(NOT out MATCHES "qtr backtest: \"net_pnl\":\"(-?[0-9]+\\.?[0-9]*)\"")
    message(FATAL_ERROR "QTR_BENCH_MA=${ma}: no qtr net_pnl in\n${out}")
  endif()
  # qtr writes no trailing zeros; the loop always 8 decimals
  set(qtr_pnl ${CMAKE_MATCH_1})
  string(REGEX REPLACE "\\.?0+$" "" loop_trim "${loop_pnl}")
  if(NOT qtr_pnl STREQUAL loop_trim)
    message(FATAL_ERROR "QTR_BENCH_MA=${ma}: qtr net PnL ${qtr_pnl}, the loop's ${loop_pnl}\n${out}")
  endif()
  set(${fills_var} ${fills} PARENT_SCOPE)
endfunction()

run_pair(10/30 fills_10)
run_pair(20/60 fills_20)
if(fills_10 EQUAL fills_20)
  message(FATAL_ERROR "10/30 and 20/60 both made ${fills_10} fills: the pair did not reach the loop")
endif()

set(ENV{QTR_BENCH_MA} 5/7)
execute_process(COMMAND ${BENCH} 1 1 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 600)
string(FIND "${err}" "QTR_BENCH_MA must be 10/30 or 20/60 (or unset for 10/30), not '5/7'" at)
if(NOT rc EQUAL 2 OR at EQUAL -1)
  message(FATAL_ERROR "QTR_BENCH_MA=5/7: exit ${rc} (want 2)\n${err}")
endif()
