# ctest bench_backtest_scale_symbols: not a timing, QTR_BENCH_SYMBOLS's
# plumbing. 1 runs only the one-symbol cases, 50 only the fifty-symbol ones
# (at a multiple of 2, so the "50 against 1" summary, which needs both, is
# left out); another value is refused with exit 2, naming it.
# cmake -DBENCH=<bench_backtest_scale> -P check_symbols.cmake
function(run_bench symbols mult out_var rc_var err_var)
  set(ENV{QTR_BENCH_SYMBOLS} ${symbols})
  execute_process(COMMAND ${BENCH} 1 ${mult} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 600)
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
  set(${err_var} "${err}" PARENT_SCOPE)
endfunction()

function(expect out what present)
  string(FIND "${out}" "${what}" at)
  if(present AND at EQUAL -1)
    message(FATAL_ERROR "no '${what}' in\n${out}")
  elseif(NOT present AND NOT at EQUAL -1)
    message(FATAL_ERROR "'${what}' should not be in\n${out}")
  endif()
endfunction()

# a run that succeeds, with each of `want` in its output and none of `unwanted`
function(expect_run symbols mult want unwanted)
  run_bench(${symbols} ${mult} out rc err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "QTR_BENCH_SYMBOLS=${symbols}: exit ${rc}\n${out}\n${err}")
  endif()
  foreach(w IN LISTS want)
    expect("${out}" "${w}" TRUE)
  endforeach()
  expect("${out}" "${unwanted}" FALSE)
endfunction()

expect_run(1 2 "1 symbol, 1x:;1 symbol, 2x:" "50 symbols")
expect_run(50 1 "50 symbols, 1x:" "1 symbol,")

run_bench(7 1 out rc err)
string(FIND "${err}" "QTR_BENCH_SYMBOLS must be 1 or 50 (or unset for both), not '7'" at)
if(NOT rc EQUAL 2 OR at EQUAL -1)
  message(FATAL_ERROR "QTR_BENCH_SYMBOLS=7: exit ${rc}, stderr:\n${err}")
endif()
expect("${out}" "symbol" FALSE)
