// libbpf's print callback; see libbpf_log.h.
#include "agent/datapath/libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <string>

#include "agent/common/log.h"

namespace bwalloc {

namespace {
int libbpf_to_log(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[1024];
  int n = vsnprintf(line, sizeof line, format, args);
  std::string text(line);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  log_debug("libbpf", text);
  return n;
}
}  // namespace

void route_libbpf_logs() {
  static bool routed = (libbpf_set_print(libbpf_to_log), true);
  (void)routed;
}

}  // namespace bwalloc
