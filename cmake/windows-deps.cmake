# What the Windows build links instead of the Linux packages: the same
# target names (Boost::headers, Boost::json, PkgConfig::SQLITE3,
# PkgConfig::TOMLPP) so the component CMakeLists need no second spelling.
#
# - Boost (Beast, Asio, JSON) and toml++ are Debian's headers. They are
#   reached through an include dir holding only symlinks to boost/ and
#   toml++/, never /usr/include itself, so mingw cannot pick up glibc's
#   headers.
# - Boost.JSON is compiled header-only from one source file.
# - SQLite is the amalgamation (sqlite3.c) that scripts/build-windows.sh
#   unpacks; its directory comes in as BWALLOC_SQLITE_SOURCE_DIR.
set(BWALLOC_SQLITE_SOURCE_DIR "" CACHE PATH "Directory holding sqlite3.c and sqlite3.h")
if(NOT EXISTS "${BWALLOC_SQLITE_SOURCE_DIR}/sqlite3.c")
  message(FATAL_ERROR "The Windows build needs the SQLite amalgamation: set BWALLOC_SQLITE_SOURCE_DIR "
                      "to a directory with sqlite3.c (scripts/build-windows.sh does)")
endif()

set(win_include ${CMAKE_BINARY_DIR}/host-headers)
file(MAKE_DIRECTORY ${win_include})
foreach(dir boost toml++)
  if(NOT EXISTS /usr/include/${dir})
    message(FATAL_ERROR "/usr/include/${dir} is missing: run scripts/install-deps.sh build")
  endif()
  file(CREATE_LINK /usr/include/${dir} ${win_include}/${dir} SYMBOLIC)
endforeach()

# Windows 10 APIs; lean windows.h (no min/max macros clashing with std::).
# _POSIX_THREAD_SAFE_FUNCTIONS: mingw-w64 then declares gmtime_r and localtime_r.
add_compile_definitions(_WIN32_WINNT=0x0A00 WINVER=0x0A00 WIN32_LEAN_AND_MEAN NOMINMAX
  _POSIX_THREAD_SAFE_FUNCTIONS=200112L
  # POSIX open()'s close-on-exec is the MS runtime's "not inherited".
  O_CLOEXEC=_O_NOINHERIT)
# One self-contained exe: libstdc++, libgcc and winpthread linked in, so it
# imports only DLLs every Windows has.
add_link_options(-static)

add_library(bwalloc_win_boost INTERFACE)
target_include_directories(bwalloc_win_boost SYSTEM INTERFACE ${win_include})
target_compile_definitions(bwalloc_win_boost INTERFACE BOOST_ALL_NO_LIB)
target_link_libraries(bwalloc_win_boost INTERFACE ws2_32 mswsock)
add_library(Boost::headers ALIAS bwalloc_win_boost)

add_library(bwalloc_win_boost_json STATIC ${PROJECT_SOURCE_DIR}/agent/platform/windows/boost_json_src.cpp)
target_link_libraries(bwalloc_win_boost_json PUBLIC bwalloc_win_boost)
add_library(Boost::json ALIAS bwalloc_win_boost_json)

add_library(bwalloc_win_tomlpp INTERFACE)
target_include_directories(bwalloc_win_tomlpp SYSTEM INTERFACE ${win_include})
add_library(PkgConfig::TOMLPP ALIAS bwalloc_win_tomlpp)

add_library(bwalloc_win_sqlite3 STATIC ${BWALLOC_SQLITE_SOURCE_DIR}/sqlite3.c)
target_include_directories(bwalloc_win_sqlite3 SYSTEM PUBLIC ${BWALLOC_SQLITE_SOURCE_DIR})
# The agent needs no extension loading; threadsafe is SQLite's default.
target_compile_definitions(bwalloc_win_sqlite3 PRIVATE SQLITE_OMIT_LOAD_EXTENSION SQLITE_DQS=0)
target_compile_options(bwalloc_win_sqlite3 PRIVATE -w)
add_library(PkgConfig::SQLITE3 ALIAS bwalloc_win_sqlite3)

find_package(Threads REQUIRED)

# bwalloc_windows_sources(target REPLACE <linux sources> WITH <windows sources>):
# a component's Linux-only files give way to their Windows counterparts in
# agent/platform/windows/ (paths relative to the component's folder, as in
# its add_library).
function(bwalloc_windows_sources target)
  cmake_parse_arguments(W "" "" "REPLACE;WITH" ${ARGN})
  get_target_property(sources ${target} SOURCES)
  list(REMOVE_ITEM sources ${W_REPLACE})
  set(windows_sources)
  foreach(file ${W_WITH})
    list(APPEND windows_sources ${PROJECT_SOURCE_DIR}/agent/platform/windows/${file})
  endforeach()
  set_target_properties(${target} PROPERTIES SOURCES "${sources};${windows_sources}")
endfunction()
