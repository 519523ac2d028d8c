# Cross-compiling bwalloc for 64-bit Windows with Debian's mingw-w64.
# The posix thread model is the one whose libstdc++ has std::thread,
# std::mutex and std::condition_variable, which the agent and Asio use.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(BWALLOC_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${BWALLOC_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${BWALLOC_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${BWALLOC_MINGW_TRIPLE}-windres)

# Look for libraries and headers only in the mingw sysroot, never in the
# build machine's /usr (glibc headers would be picked up by mistake).
set(CMAKE_FIND_ROOT_PATH /usr/${BWALLOC_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
