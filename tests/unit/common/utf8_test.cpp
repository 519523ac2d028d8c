// UTF-8 checks, repair and cutting: a table of valid and invalid sequences
// (truncated, overlong, surrogates, past U+10FFFF), and cuts that never
// split a character whatever the byte budget.
#include "agent/common/utf8.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(Utf8, ValidAndInvalidSequences) {
  struct Case {
    std::string text;
    bool valid;
    std::string repaired;  // for invalid ones
  };
  const Case cases[] = {
      {"", true, ""},
      {"plain ascii", true, ""},
      {"caf\xC3\xA9", true, ""},
      {"\xE2\x82\xAC", true, ""},
      {"\xF0\x9F\x98\x80", true, ""},
      {"\xF4\x8F\xBF\xBF", true, ""},  // U+10FFFF
      {std::string("a\0b", 3), true, ""},
      {"\xC3", false, kReplacement},
      {"x\xE2\x82", false, "x" + kReplacement + kReplacement},
      {"\xFF", false, kReplacement},
      {"\x80", false, kReplacement},
      {"\xC0\xAF", false, kReplacement + kReplacement},                                        // overlong '/'
      {"\xE0\x80\xAF", false, kReplacement + kReplacement + kReplacement},                     // overlong
      {"\xED\xA0\x80", false, kReplacement + kReplacement + kReplacement},                     // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", false, kReplacement + kReplacement + kReplacement + kReplacement},  // past U+10FFFF
      {"caf\xE9-pc", false, "caf" + kReplacement + "-pc"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(is_valid_utf8(c.text), c.valid) << c.text;
    const std::string repaired = repair_utf8(c.text);
    EXPECT_TRUE(is_valid_utf8(repaired)) << c.text;
    EXPECT_EQ(repaired, c.valid ? c.text : c.repaired) << c.text;
  }
}

TEST(Utf8, CutsOnlyBetweenCharacters) {
  const std::string text = "ab\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";  // 1+1+2+3+4+1 bytes
  const size_t ends[] = {0, 1, 2, 2, 4, 4, 4, 7, 7, 7, 7, 11, 12, 12};
  for (size_t budget = 0; budget < std::size(ends); ++budget) {
    const std::string cut = truncate_utf8(text, budget);
    EXPECT_EQ(cut.size(), ends[budget]) << "budget " << budget;
    EXPECT_TRUE(is_valid_utf8(cut)) << "budget " << budget;
    EXPECT_EQ(text.compare(0, cut.size(), cut), 0);
  }
}

}  // namespace
}  // namespace bwalloc
