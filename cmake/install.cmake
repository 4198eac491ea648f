# Install rules, included by the top-level CMakeLists.txt. The layout
# (GNUInstallDirs; lib may be lib/<multiarch> under /usr):
#   include/ckpt/*.h, include/ckpt/runtime/*.h  public headers, version.h
#   include/ckpt/proto/*.pb.h, *.proto          schemas the headers include
#   lib/libckpt{,_runtime}.a, .so.0.2           static and shared libraries
#   lib/cmake/ckpt/                             find_package(ckpt CONFIG)
#   lib/pkgconfig/ckpt.pc, ckpt_runtime.pc
#   bin/ckpt_dump, ckpt_diff, ckpt_convert, ckpt_run
# `cmake --install` only copies: build everything first.
include(CMakePackageConfigHelpers)
set(CKPT_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/ckpt)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/include/ckpt
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${CKPT_GENERATED_INCLUDE}/ckpt/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ckpt)
# The .proto files travel with their generated headers, so that users can
# generate code for other languages or import them in their own schemas.
install(FILES ${CKPT_PROTO_HDRS} ${CKPT_PROTOS}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ckpt/proto)

install(TARGETS ckpt ckpt_shared ckpt_runtime ckpt_runtime_shared
        EXPORT ckptTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS ${CKPT_TOOLS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(EXPORT ckptTargets NAMESPACE ckpt:: DESTINATION ${CKPT_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ckptConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ckptConfig.cmake INSTALL_DESTINATION ${CKPT_INSTALL_CMAKEDIR})
# 0.x: a minor release may change the API, so 0.2.1 satisfies a request for
# 0.2 but 0.3 does not (the SONAME makes the same promise).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ckptConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ckptConfig.cmake ${PROJECT_BINARY_DIR}/ckptConfigVersion.cmake
        DESTINATION ${CKPT_INSTALL_CMAKEDIR})

# pkg-config files find their prefix relative to themselves (${pcfiledir}),
# so an installed tree can be moved, as `cmake --install --prefix` does.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(CKPT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(CKPT_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH CKPT_PC_UP /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
  string(REGEX REPLACE "/$" "" CKPT_PC_UP "${CKPT_PC_UP}")
  set(CKPT_PC_PREFIX "\${pcfiledir}/${CKPT_PC_UP}")
  set(CKPT_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(CKPT_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(CKPT_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
foreach(pc ckpt ckpt_runtime)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
