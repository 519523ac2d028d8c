// Target decoding; see request_target.h.
#include "agent/http/request_target.h"

#include <cctype>
#include <sstream>

namespace bwalloc {

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

RequestTarget parse_target(const std::string& target) {
  RequestTarget t;
  auto q = target.find('?');
  t.path = percent_decode(target.substr(0, q));
  if (q == std::string::npos) return t;
  std::istringstream params(target.substr(q + 1));
  std::string pair;
  while (std::getline(params, pair, '&')) {
    auto eq = pair.find('=');
    t.query[percent_decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : percent_decode(pair.substr(eq + 1));
  }
  return t;
}

}  // namespace bwalloc
