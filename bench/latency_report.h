// The report of shaping_bench --scenario latency: one Markdown section (a
// table with a column per method) and a PNG drawn by gnuplot per run.
#pragma once

#include <boost/json.hpp>
#include <filesystem>
#include <string>

namespace bwalloc::bench {

// True for a document printed by `shaping_bench --scenario latency`.
bool is_latency_run(const boost::json::object& run);

// Markdown for one run; draws `<out_dir>/<png_name>.png` and links it when
// gnuplot succeeds.
std::string latency_markdown(const boost::json::object& run, const std::filesystem::path& out_dir,
                             const std::string& png_name);

}  // namespace bwalloc::bench
