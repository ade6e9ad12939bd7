# The custom CUDA kernels (DESIGN.md §7; attention/kernels/).
#  - Against a CUDA LibTorch: attention/kernels/cuda/*.cu become attnlab_cuda_kernels and their
#    torch glue (attention/kernels/cuda/*.cpp) joins attnlab_attention; the kernels are registered
#    through attention/kernels/cuda_kernels.h.
#  - Otherwise attnlab_attention gets cuda_kernels_unavailable.cpp instead, and, where nvcc exists,
#    CTest compiles every .cu with nvcc and syntax-checks every glue .cpp against the torch headers,
#    so neither can rot on machines without a GPU.
file(GLOB ATTNLAB_CUDA_KERNEL_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/attention/kernels/cuda/*.cu)
file(GLOB ATTNLAB_CUDA_GLUE_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/attention/kernels/cuda/*.cpp)

if(CAFFE2_USE_CUDA OR TORCH_CUDA_LIBRARIES)
  set(ATTNLAB_WITH_CUDA ON)
else()
  set(ATTNLAB_WITH_CUDA OFF)
endif()
message(STATUS "attnlab: CUDA kernels ${ATTNLAB_WITH_CUDA}")

find_program(ATTNLAB_NVCC nvcc HINTS ENV CUDA_HOME PATHS /usr/local/cuda PATH_SUFFIXES bin)
# The architecture of the compile check and the default of a CUDA build: Hopper (H100/H200).
set(ATTNLAB_CUDA_CHECK_ARCH sm_90)

# A macro, not a function: enable_language must run at the top-level file scope.
macro(attnlab_add_cuda_kernels attention_target)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 80 90)
  endif()
  enable_language(CUDA)
  add_library(attnlab_cuda_kernels STATIC ${ATTNLAB_CUDA_KERNEL_SOURCES})
  target_include_directories(attnlab_cuda_kernels PUBLIC ${CMAKE_SOURCE_DIR})
  set_target_properties(attnlab_cuda_kernels PROPERTIES
    CUDA_STANDARD 17 CUDA_RUNTIME_LIBRARY Shared POSITION_INDEPENDENT_CODE ON)
  target_sources(${attention_target} PRIVATE ${ATTNLAB_CUDA_GLUE_SOURCES})
  target_link_libraries(${attention_target} PUBLIC attnlab_cuda_kernels)
endmacro()

# CTest cases that compile the kernels and glue without building them into the binary.
function(attnlab_add_cuda_compile_checks)
  if(ATTNLAB_WITH_CUDA)
    return()  # built for real, so the build itself is the check
  endif()
  if(NOT ATTNLAB_NVCC)
    add_test(NAME CudaCompileCheck
      COMMAND sh -c "echo 'nvcc not found: the .cu files were not compile-checked'; exit 77")
    set_tests_properties(CudaCompileCheck PROPERTIES SKIP_RETURN_CODE 77)
    return()
  endif()
  get_filename_component(cuda_bin ${ATTNLAB_NVCC} DIRECTORY)
  set(out ${CMAKE_BINARY_DIR}/cuda_compile_check)
  file(MAKE_DIRECTORY ${out})
  foreach(source ${ATTNLAB_CUDA_KERNEL_SOURCES})
    get_filename_component(name ${source} NAME_WE)
    add_test(NAME CudaCompileCheck.${name}
      COMMAND ${ATTNLAB_NVCC} -std=c++17 -arch=${ATTNLAB_CUDA_CHECK_ARCH} -Werror all-warnings
              -I${CMAKE_SOURCE_DIR} -c ${source} -o ${out}/${name}.o)
  endforeach()
  set(includes -I${CMAKE_SOURCE_DIR} -I${CMAKE_SOURCE_DIR}/cmake/cuda_glue_headers -I${cuda_bin}/../include)
  foreach(dir ${TORCH_INCLUDE_DIRS})
    list(APPEND includes -I${dir})
  endforeach()
  separate_arguments(torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
  foreach(source ${ATTNLAB_CUDA_GLUE_SOURCES})
    get_filename_component(name ${source} NAME_WE)
    add_test(NAME CudaGlueSyntaxCheck.${name}
      COMMAND ${CMAKE_CXX_COMPILER} -std=c++17 -fsyntax-only -Wall -Werror ${torch_flags}
              ${includes} ${source})
  endforeach()
endfunction()
