// Boost.JSON compiled into the Windows build from its headers (Debian ships
// the library only for Linux); the Linux build links libboost_json instead.
#include <boost/json/src.hpp>
