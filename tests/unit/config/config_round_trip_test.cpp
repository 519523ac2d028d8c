// Property tests over the whole key table: every value a runtime key accepts
// (through POST /api/config, whose JSON values reach with_changes as TOML
// text) is saved (key.get, the text the store keeps) in a form the next
// start loads back to exactly the same setting; the integer and the string
// form of a number pass the same checks; and a sequence of changes, saved
// key by key, loads back as a whole.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <random>

#include "agent/config/config_keys.h"
#include "agent/config/config_loader.h"
#include "agent/config/saved_settings.h"

namespace bwalloc {
namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

// Every setting, compared exactly: render_config covers strings, lists and
// booleans; the numbers are compared as numbers so that a rounding format
// ("123457kbit" for 123,456,789 bit/s) cannot hide behind equal renderings.
// Returns what differs, "" when nothing does.
std::string differences(const Config& a, const Config& b) {
  auto numbers = [](const Config& c) {
    return std::vector<std::pair<const char*, double>>{
        {"simulated_devices", c.simulated_devices},
        {"max_devices", c.datapath.max_devices},
        {"horizon_ns", static_cast<double>(c.datapath.horizon_ns)},
        {"ce_target_ns", static_cast<double>(c.datapath.ce_target_ns)},
        {"policer_burst_ns", static_cast<double>(c.datapath.policer_burst_ns)},
        {"tick", static_cast<double>(c.allocator.tick.count())},
        {"window_samples", c.allocator.window_samples},
        {"high_below", static_cast<double>(c.allocator.high_below_bits_per_sec)},
        {"low_above", static_cast<double>(c.allocator.low_above_bits_per_sec)},
        {"spike_sigma", c.allocator.spike_sigma},
        {"spike_min_samples", c.allocator.spike_min_samples},
        {"demotion_ticks", c.allocator.demotion_ticks},
        {"rates.high", static_cast<double>(c.rates.high_bits_per_sec)},
        {"rates.normal", static_cast<double>(c.rates.normal_bits_per_sec)},
        {"rates.low", static_cast<double>(c.rates.low_bits_per_sec)},
        {"raw_retention", static_cast<double>(c.store.raw_retention.count())},
        {"minute_retention", static_cast<double>(c.store.minute_retention.count())},
        {"hour_retention", static_cast<double>(c.store.hour_retention.count())},
        {"day_retention", static_cast<double>(c.store.day_retention.count())},
        {"http.port", c.http.port},
        {"probe_interval", static_cast<double>(c.metrics.probe_interval.count())}};
  };
  std::string out;
  auto na = numbers(a), nb = numbers(b);
  for (size_t i = 0; i < na.size(); ++i) {
    // Every value here is below 2^53: a double holds it exactly.
    if (na[i].second != nb[i].second) {
      out +=
          std::string(na[i].first) + ": " + std::to_string(na[i].second) + " vs " + std::to_string(nb[i].second) + "\n";
    }
  }
  for (const auto& key : config_keys()) {
    if (key.get(a) != key.get(b)) out += key.name + ": " + key.get(a) + " vs " + key.get(b) + "\n";
  }
  return out;
}

// What the next start does with the saved rows (agent/runtime/agent.cpp).
LoadedSettings load(const Rows& saved) { return load_saved_settings(Config{}, saved); }

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// Value texts as POST /api/config hands them over (JSON serialised), for
// every kind of key: edge and random integers, doubles, unit strings,
// booleans and lists.
std::vector<std::string> candidate_values() {
  std::vector<std::string> v;
  const int64_t max = std::numeric_limits<int64_t>::max();
  for (int64_t n : {int64_t{0},
                    int64_t{1},
                    int64_t{-1},
                    int64_t{2},
                    int64_t{3},
                    int64_t{5},
                    int64_t{99},
                    int64_t{100},
                    int64_t{999},
                    int64_t{1000},
                    int64_t{1001},
                    int64_t{65535},
                    int64_t{65536},
                    int64_t{600'000},
                    int64_t{1'000'000},
                    int64_t{123'456'789},
                    int64_t{1'234'567'000},
                    int64_t{999'999'999'999},
                    int64_t{1'000'000'000'000},
                    int64_t{1'000'000'000'001},
                    int64_t{3'153'600'000'000},
                    int64_t{3'153'600'000'001},
                    int64_t{4'294'967'296},
                    int64_t{9'007'199'254'740'993},
                    max,
                    std::numeric_limits<int64_t>::min()}) {
    v.push_back(std::to_string(n));
  }
  v.push_back("18446744073709551615");  // JSON's uint64: not TOML, so it arrives as a string
  std::mt19937_64 rng(12);
  for (int i = 0; i < 150; ++i) {
    const int digits = static_cast<int>(rng() % 19) + 1;
    int64_t n = static_cast<int64_t>(rng() % static_cast<uint64_t>(max));
    for (int d = digits; d < 19; ++d) n /= 10;
    v.push_back(std::to_string(n));
  }
  for (const char* d : {"0.5", "2.0", "2.1234567891", "9.999999999", "10.0000001", "1e-300", "1E300", "-3.5", "0.0"}) {
    v.push_back(d);
  }
  for (int i = 0; i < 40; ++i) {
    v.push_back(std::to_string(0.5 + static_cast<double>(rng() % 1'000'000) / 100'000.0) +
                std::to_string(rng() % 1000));
  }
  const std::vector<std::string> numbers = {"0",          "0.4",      "0.5",  "1",   "1.5",       "7",    "20",
                                            "123.456789", "999.9999", "1000", "1e3", "123456789", "1e12", "9.3e18",
                                            "1e400",      "nan",      "inf",  "-1",  " 5",        "5 "};
  const std::vector<std::string> units = {"",     "bit", "bps", "kbit", "Kbit", "kbps", "Mbit", "mbit", "Mbps",
                                          "Gbit", "ms",  "s",   "m",    "min",  "h",    "d",    "x"};
  for (const auto& n : numbers) {
    for (const auto& u : units) v.push_back(quoted(n + u));
  }
  for (int i = 0; i < 100; ++i) {
    const std::string n =
        std::to_string(rng() % 10'000'000'000'000ull) + (i % 2 ? "." + std::to_string(rng() % 1000) : "");
    v.push_back(quoted(n + units[rng() % units.size()]));
  }
  for (const char* s : {"true", "false", "\"true\"", "\"auto\"", "\"debug\"", "\"info\"", "\"warn\"", "\"error\"",
                        "\"\"", "\"lan0\"", "\"a\\u0000b\"", "\"\\u00e9t\\u00e9\"", "null", "{}", "{\"a\":1}"}) {
    v.push_back(s);
  }
  for (const char* l :
       {"[]", "[53]", "[0]", "[65535,1]", "[53,53]", "[65536]", "[-1]", "[1.5]", "[\"53\"]", "[22,443]", "[[1]]"}) {
    v.push_back(l);
  }
  std::string many = "[";
  for (int p = 1; p <= 300; ++p) many += (p > 1 ? "," : "") + std::to_string(p);
  v.push_back(many + "]");
  return v;
}

TEST(ConfigRoundTrip, EveryValueAcceptedAtRunTimeLoadsBackUnchanged) {
  int accepted = 0;
  for (const auto& key : config_keys()) {
    if (!key.runtime) continue;
    for (const auto& value : candidate_values()) {
      auto changed = with_changes(Config{}, {{key.name, value}}, true);
      if (!changed) continue;
      ++accepted;
      const std::string saved = key.get(*changed);
      LoadedSettings loaded = load({{key.name, saved}});
      EXPECT_TRUE(loaded.skipped.empty())
          << key.name << " accepted " << value << ", saved as " << saved
          << ", refused at the next start: " << (loaded.skipped.empty() ? "" : loaded.skipped[0]);
      EXPECT_EQ(differences(loaded.config, *changed), "") << key.name << " accepted " << value << ", saved as " << saved
                                                          << ", loads back as " << key.get(loaded.config);
    }
  }
  EXPECT_GT(accepted, 200) << "the candidates reach every runtime key";
}

// A number may be given as an integer or as a string ("123" bit/s, "123ms"):
// both forms are checked alike, so neither slips past a cap the other keeps.
TEST(ConfigRoundTrip, IntegerAndStringFormsPassTheSameChecks) {
  for (const auto& key : config_keys()) {
    auto takes = [&](const char* text) { return with_changes(Config{}, {{key.name, quoted(text)}}, false).ok(); };
    std::string unit;
    if (takes("1Mbit") && !takes("1 lightyear")) {
      unit = "bit";
    } else if (takes("1s") && !takes("1 lightyear")) {
      unit = "ms";
    } else {
      continue;  // the key has no string form of a number
    }
    for (const auto& value : candidate_values()) {
      if (value.empty() || (value[0] != '-' && !std::isdigit(static_cast<unsigned char>(value[0])))) continue;
      if (value.find_first_of(".eE") != std::string::npos || value == "18446744073709551615") continue;
      auto as_integer = with_changes(Config{}, {{key.name, value}}, false);
      auto as_string = with_changes(Config{}, {{key.name, quoted(value + unit)}}, false);
      ASSERT_EQ(as_integer.ok(), as_string.ok())
          << key.name << ": " << value << " -> " << (as_integer ? "accepted" : as_integer.message()) << "; \"" << value
          << unit << "\" -> " << (as_string ? "accepted" : as_string.message());
      if (as_integer) {
        EXPECT_EQ(differences(*as_integer, *as_string), "") << key.name << " " << value;
      }
    }
  }
}

// Operators change settings one request at a time; the store keeps the
// newest text of each key touched and hands them back sorted by key. The
// whole set must load, whatever order the changes were made in.
TEST(ConfigRoundTrip, ChangesMadeOneByOneLoadBackTogether) {
  std::vector<std::pair<std::string, std::string>> single;
  for (const auto& key : config_keys()) {
    if (!key.runtime) continue;
    for (const auto& value : candidate_values()) {
      if (with_changes(Config{}, {{key.name, value}}, true)) single.emplace_back(key.name, value);
    }
  }
  // Pairs that only fit together, in the order that needs the other first.
  single.emplace_back("allocator.low_above", quoted("100Mbit"));
  single.emplace_back("allocator.high_below", quoted("50Mbit"));
  single.emplace_back("datapath.horizon", quoted("5s"));
  single.emplace_back("datapath.ce_target", quoted("3s"));
  std::mt19937 rng(7);
  for (int run = 0; run < 300; ++run) {
    Config current;
    std::map<std::string, std::string> saved;  // the store's config table
    for (int step = 0; step < 12; ++step) {
      const auto& [key, value] = single[rng() % single.size()];
      auto changed = with_changes(current, {{key, value}}, true);
      if (!changed) continue;  // refused by a cross-field check against `current`: nothing saved
      current = *changed;
      saved[key] = find_config_key(key)->get(current);
    }
    if (run % 10 == 0) {
      for (const auto& [key, value] :
           Rows{{"allocator.low_above", quoted("100Mbit")}, {"allocator.high_below", quoted("50Mbit")}}) {
        current = *with_changes(current, {{key, value}}, true);
        saved[key] = find_config_key(key)->get(current);
      }
    }
    LoadedSettings loaded = load(Rows(saved.begin(), saved.end()));
    std::string rows;
    for (const auto& [k, v] : saved) rows += k + " = " + v + "\n";
    EXPECT_TRUE(loaded.skipped.empty()) << rows << "skipped: " << (loaded.skipped.empty() ? "" : loaded.skipped[0]);
    EXPECT_EQ(differences(loaded.config, current), "") << rows;
  }
}

TEST(SavedSettings, ARowThatFailsToLoadIsSkippedAlone) {
  Rows saved = {{"allocator.auto_mode", "false"},
                {"allocator.demotion_ticks", "5"},
                {"rates.high", quoted("9.22337e+15kbit")},  // what 9223372036854775807 was saved as
                {"rates.low", quoted("3Mbit")},
                {"store.path", quoted("/tmp/not-at-run-time.db")},
                {"no.such_key", "1"}};
  LoadedSettings loaded = load(saved);
  EXPECT_FALSE(loaded.config.allocator.auto_mode);
  EXPECT_EQ(loaded.config.rates.low_bits_per_sec, 3'000'000u);
  EXPECT_EQ(loaded.config.rates.high_bits_per_sec, Config{}.rates.high_bits_per_sec) << "the bad row: the default";
  EXPECT_EQ(loaded.config.allocator.demotion_ticks, 5);
  EXPECT_EQ(loaded.config.store.path, Config{}.store.path);
  ASSERT_EQ(loaded.skipped.size(), 3u);
  std::string all;
  for (const auto& s : loaded.skipped) all += s + "\n";
  EXPECT_NE(all.find("rates.high"), std::string::npos) << all;
  EXPECT_NE(all.find("1 Tbit/s"), std::string::npos) << "says why: " << all;
  EXPECT_NE(all.find("store.path"), std::string::npos) << all;
  EXPECT_NE(all.find("no.such_key"), std::string::npos) << all;
}

TEST(SavedSettings, ACrossFieldConflictWithTheFileSkipsOnlyTheSavedValueInvolved) {
  Config file;
  file.allocator.window_samples = 6;  // the operator lowered it in the file since
  LoadedSettings loaded =
      load_saved_settings(file, {{"allocator.spike_min_samples", "8"}, {"rates.low", quoted("3Mbit")}});
  EXPECT_EQ(loaded.config.allocator.spike_min_samples, file.allocator.spike_min_samples);
  EXPECT_EQ(loaded.config.rates.low_bits_per_sec, 3'000'000u);
  ASSERT_EQ(loaded.skipped.size(), 1u);
  EXPECT_NE(loaded.skipped[0].find("allocator.spike_min_samples"), std::string::npos) << loaded.skipped[0];
  EXPECT_NE(loaded.skipped[0].find("window_samples"), std::string::npos) << loaded.skipped[0];
}

}  // namespace
}  // namespace bwalloc
