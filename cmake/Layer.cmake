# hydra_layer(NAME DEPS ...): one static library per folder under src/, its sources globbed
# so that adding a file to a layer needs no edit here.
function(hydra_layer name)
  cmake_parse_arguments(L "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cc)
  # A daemon's main.cc belongs to its executable (hydra_daemon), not to the library.
  list(FILTER srcs EXCLUDE REGEX "/main\\.cc$")
  if(srcs)
    add_library(hydra_${name} STATIC ${srcs})
    target_include_directories(hydra_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(hydra_${name} PUBLIC ${L_DEPS})
  else()
    add_library(hydra_${name} INTERFACE)
    target_include_directories(hydra_${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(hydra_${name} INTERFACE ${L_DEPS})
  endif()
endfunction()

# hydra_daemon(PROGRAM LAYER): the executable PROGRAM from src/LAYER/main.cc, linked with its
# layer; nothing is defined until that main.cc exists.
function(hydra_daemon program layer)
  set(main ${PROJECT_SOURCE_DIR}/src/${layer}/main.cc)
  if(EXISTS ${main})
    add_executable(${program} ${main})
    target_link_libraries(${program} PRIVATE hydra_${layer})
    set_target_properties(${program} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
    install(TARGETS ${program} RUNTIME DESTINATION bin)
  endif()
endfunction()
