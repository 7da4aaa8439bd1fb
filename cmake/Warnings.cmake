# Warnings are errors on every compiler we support (GCC 12, Clang 14).
add_compile_options(
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused
  -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  # Designated initializers that leave defaulted members out are intended.
  -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # GCC 12 at -O2 reports null dereferences inside libstdc++'s own string code.
  add_compile_options(-Wnull-dereference)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-Wmisleading-indentation -Wduplicated-cond -Wlogical-op)
endif()
