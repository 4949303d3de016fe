# cmake -DSEGEARTH=BINARY -DFOLDER=DIR -DCOMMANDS="a;b" -P write_usage.cmake: DIR/COMMAND.json for each.
foreach(command ${COMMANDS})
  execute_process(COMMAND ${SEGEARTH} ${command} --json-usage OUTPUT_FILE ${FOLDER}/${command}.json
                  RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "${SEGEARTH} ${command} --json-usage failed")
  endif()
endforeach()
