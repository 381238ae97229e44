# What `cmake --install` gives C++ and C users: libbertcpp.so (every layer but the server, which is
# the CLI's), include/bertcpp, a pkg-config file and a CMake package exporting bertcpp::bertcpp.
# One shared library: its DT_NEEDED entries carry oneDNN, libgomp, libcurl, utf8proc and libzip,
# so a consumer links -lbertcpp alone (the public headers use only the standard library).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(bertcpp_layers bertcpp_core bertcpp_io bertcpp_tokenizer bertcpp_ops bertcpp_model bertcpp_hub bertcpp_api)
file(WRITE ${CMAKE_BINARY_DIR}/libbertcpp.cpp "// libbertcpp: the layer archives below, linked whole.\n")
add_library(bertcpp_lib SHARED ${CMAKE_BINARY_DIR}/libbertcpp.cpp)
set_target_properties(bertcpp_lib PROPERTIES
  OUTPUT_NAME bertcpp EXPORT_NAME bertcpp
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
set(whole)
foreach(layer ${bertcpp_layers})
  list(APPEND whole $<TARGET_FILE:${layer}>)
endforeach()
# --whole-archive: a consumer may call any public function, not only those the CLI pulls in.
target_link_options(bertcpp_lib PRIVATE -Wl,--no-undefined -Wl,--whole-archive ${whole} -Wl,--no-whole-archive)
target_link_libraries(bertcpp_lib PRIVATE ${bertcpp_layers})
target_include_directories(bertcpp_lib INTERFACE
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(bertcpp_lib INTERFACE cxx_std_20)
add_library(bertcpp::bertcpp ALIAS bertcpp_lib)

install(TARGETS bertcpp_lib EXPORT bertcppTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/bertcpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(bertcpp_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/bertcpp)
install(EXPORT bertcppTargets NAMESPACE bertcpp:: DESTINATION ${bertcpp_cmake_dir})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/bertcppConfig.cmake.in
  ${CMAKE_BINARY_DIR}/bertcppConfig.cmake INSTALL_DESTINATION ${bertcpp_cmake_dir})
# 0.x: a minor release may change the API.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/bertcppConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/bertcppConfig.cmake ${CMAKE_BINARY_DIR}/bertcppConfigVersion.cmake
  DESTINATION ${bertcpp_cmake_dir})

# The .pc file finds its prefix from its own place, so `cmake --install --prefix P` works anywhere.
file(RELATIVE_PATH bertcpp_pc_to_prefix /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" bertcpp_pc_to_prefix "${bertcpp_pc_to_prefix}")
configure_file(${CMAKE_SOURCE_DIR}/cmake/bertcpp.pc.in ${CMAKE_BINARY_DIR}/bertcpp.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/bertcpp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
