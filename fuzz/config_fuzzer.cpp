// libFuzzer harness for the config parser: arbitrary bytes as a TOML file
// and as a --set override. Nothing may crash or throw; a file that parses
// must render (render_config) to a file that parses to the same rendering,
// so `bwalloc --help`'s reference and saved settings always load back.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bwalloc;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_config(text, "fuzz.toml");
  if (parsed) {
    const std::string rendered = render_config(*parsed);
    auto again = parse_config(rendered, "rendered.toml");
    if (!again) {
      std::fprintf(stderr, "a parsed config renders to a file that does not parse: %s\n---\n%s\n",
                   again.message().c_str(), rendered.c_str());
      std::abort();
    }
    if (render_config(*again) != rendered) {
      std::fprintf(stderr, "render/parse round trip changed the config:\n%s\n---\n%s\n", rendered.c_str(),
                   render_config(*again).c_str());
      std::abort();
    }
  }
  Config config;
  (void)apply_override(config, text);
  (void)apply_override(config, text, true);
  return 0;
}
