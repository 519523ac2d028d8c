// JSON answers; see json_response.h.
#include "agent/http/json_response.h"

#include <boost/json.hpp>

#include "agent/common/utf8.h"

namespace bwalloc {

HttpResponse json_ok(const boost::json::object& body, int status) {
  HttpResponse r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

HttpResponse json_error(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = boost::json::serialize(boost::json::object{{"ok", false}, {"error", repair_utf8(message)}});
  return r;
}

}  // namespace bwalloc
