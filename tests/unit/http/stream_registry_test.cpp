// StreamRegistry on its own: who gives way at each cap, each eviction
// called once, and members leaving when destroyed.
#include "agent/http/stream_registry.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace bwalloc {
namespace {

using boost::asio::ip::make_address;

// Streams named by a label; `evicted` collects the labels told to end.
struct Registry {
  StreamRegistry registry;
  std::vector<std::string> evicted;
  std::vector<std::optional<StreamRegistry::Membership>> members;

  Registry(size_t total, size_t per_client) : registry(total, per_client) {}
  size_t open(const std::string& label, const char* address) {
    members.emplace_back(registry.admit(make_address(address), [this, label] { evicted.push_back(label); }));
    return members.size() - 1;
  }
};

TEST(StreamRegistryTest, AtTheTotalCapTheOldestGoesWhenAllHoldOne) {
  Registry r(3, 2);
  r.open("a", "10.0.0.1");
  r.open("b", "10.0.0.2");
  r.open("c", "10.0.0.3");
  EXPECT_TRUE(r.evicted.empty());
  r.open("d", "10.0.0.4");
  EXPECT_EQ(r.evicted, std::vector<std::string>{"a"});
  EXPECT_EQ(r.registry.open(), 3u);
}

TEST(StreamRegistryTest, AtTheTotalCapTheBiggestHolderPaysFirst) {
  Registry r(4, 3);
  r.open("lone", "10.0.0.1");
  r.open("g1", "10.0.0.9");
  r.open("g2", "10.0.0.9");
  r.open("other", "10.0.0.2");
  r.open("new", "10.0.0.3");
  EXPECT_EQ(r.evicted, std::vector<std::string>{"g1"});
  r.open("new2", "10.0.0.4");  // now everyone holds one: the oldest, "lone"
  EXPECT_EQ(r.evicted, (std::vector<std::string>{"g1", "lone"}));
}

TEST(StreamRegistryTest, AtItsOwnCapAClientReplacesItsOldest) {
  Registry r(10, 2);
  r.open("x1", "::1");
  r.open("y", "::2");
  r.open("x2", "::1");
  r.open("x3", "::ffff:0:1");  // not the same as ::1
  EXPECT_TRUE(r.evicted.empty());
  r.open("x4", "::1");
  EXPECT_EQ(r.evicted, std::vector<std::string>{"x1"});
}

TEST(StreamRegistryTest, ClosedStreamsLeaveAndEvictedOnesAreNotEvictedTwice) {
  Registry r(2, 2);
  size_t a = r.open("a", "10.0.0.1");
  r.open("b", "10.0.0.2");
  r.members[a].reset();  // a's dashboard closed
  EXPECT_EQ(r.registry.open(), 1u);
  r.open("c", "10.0.0.3");
  EXPECT_TRUE(r.evicted.empty()) << "room was made by the close";
  r.open("d", "10.0.0.4");
  r.open("e", "10.0.0.5");
  EXPECT_EQ(r.evicted, (std::vector<std::string>{"b", "c"}));
  r.members.clear();  // evicted members leaving again changes nothing
  EXPECT_EQ(r.registry.open(), 0u);
}

}  // namespace
}  // namespace bwalloc
