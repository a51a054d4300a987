# Runs the fuzzer once over each seed, tracing it (STEERSYNC_FUZZ_VERBOSE=1),
# and fails when a seed stopped reaching the session's Batch handling: a
# Hello of another protocol version is refused before any record is read,
# so after a protocol change every committed seed would exercise nothing
# (regenerate them: README, "Fuzzing"). Also requires seed-every-kind to
# still have versions admitted, so that the domain admission stays fuzzed.
#
#   cmake -DFUZZER=<binary> -DSEEDS=<corpus dir> -P check_seeds.cmake
foreach(v FUZZER SEEDS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_seeds.cmake: -D${v}=... is required")
  endif()
endforeach()
file(GLOB seeds ${SEEDS}/*)
set(dead "")
foreach(seed ${seeds})
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env STEERSYNC_FUZZ_VERBOSE=1 ${FUZZER} ${seed}
    OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${FUZZER} failed (${rc}) on ${seed}")
  endif()
  if(out MATCHES "speaks protocol version")
    list(APPEND dead ${seed})
  endif()
  get_filename_component(name ${seed} NAME)
  if(name STREQUAL "seed-every-kind" AND NOT out MATCHES "admitted by kind: [A-Z]")
    message(FATAL_ERROR "seed-every-kind has no version admitted any more:\n${out}")
  endif()
endforeach()
if(dead)
  message(FATAL_ERROR "seeds refused at Hello (another protocol version): ${dead}")
endif()
