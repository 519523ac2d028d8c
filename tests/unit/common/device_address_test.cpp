// Which addresses may be a LAN device (and so get a device row, a block or a
// priority): unicast addresses a device can own, never the unspecified,
// loopback, multicast, broadcast or reserved ones, never the router's own;
// and an address with anything after it (an embedded NUL) does not parse.
#include "agent/common/device_address.h"

#include <gtest/gtest.h>

#include <string>

namespace bwalloc {
namespace {

IpAddress ip(const char* text) {
  auto parsed = IpAddress::parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.message();
  return parsed.ok() ? *parsed : IpAddress{};
}

TEST(DeviceAddress, TableOfAddresses) {
  struct Case {
    const char* address;
    bool device;
    const char* why;  // a word the refusal must contain
  };
  const Case cases[] = {
      {"10.0.0.9", true, ""},
      {"192.168.1.20", true, ""},
      {"172.16.0.5", true, ""},
      {"100.64.1.1", true, ""},
      {"203.0.113.7", true, ""},
      {"169.254.10.20", true, ""},
      {"fd00:10::11", true, ""},
      {"2001:db8::1", true, ""},
      {"::ffff:10.0.0.9", true, ""},
      {"0.0.0.0", false, "unspecified"},
      {"::", false, "unspecified"},
      {"::ffff:0.0.0.0", false, "unspecified"},
      {"0.1.2.3", false, "0.0.0.0/8"},
      {"127.0.0.1", false, "loopback"},
      {"127.255.0.9", false, "loopback"},
      {"::ffff:127.0.0.1", false, "loopback"},
      {"::1", false, "loopback"},
      {"224.0.0.1", false, "multicast"},
      {"239.255.255.250", false, "multicast"},
      {"ff02::1", false, "multicast"},
      {"ff05::1:3", false, "multicast"},
      {"255.255.255.255", false, "broadcast"},
      {"240.0.0.1", false, "reserved"},
      {"fe80::1", false, "link-local"},
      {"febf::1", false, "link-local"},
  };
  for (const Case& c : cases) {
    const IpAddress a = ip(c.address);
    const std::string reason = non_device_reason(a);
    EXPECT_EQ(reason.empty(), c.device) << c.address << ": " << reason;
    EXPECT_EQ(a.is_device_address(), c.device) << c.address;
    if (!c.device) {
      EXPECT_NE(reason.find(c.why), std::string::npos) << c.address << ": " << reason;
      EXPECT_NE(reason.find(a.to_string()), std::string::npos) << "names the address: " << reason;
    }
    auto checked = check_device_address(a, {});
    EXPECT_EQ(checked.ok(), c.device) << c.address;
  }
}

TEST(DeviceAddress, TheRoutersOwnAddressesAreNotDevices) {
  const std::vector<IpAddress> router = {ip("10.10.0.1"), ip("fd00:10::1"), ip("10.10.0.255")};
  for (const char* own : {"10.10.0.1", "fd00:10::1", "10.10.0.255"}) {
    auto checked = check_device_address(ip(own), router);
    ASSERT_FALSE(checked.ok()) << own;
    EXPECT_NE(checked.message().find("router"), std::string::npos) << checked.message();
  }
  EXPECT_TRUE(check_device_address(ip("10.10.0.11"), router).ok());
  EXPECT_TRUE(check_device_address(ip("fd00:10::11"), router).ok());
}

TEST(DeviceAddress, AnEmbeddedNulIsNotAnAddress) {
  using namespace std::string_literals;
  for (const std::string& text : {"10.0.0.9\0x"s, "10.0.0.9\0"s, "fd00::9\0"s, "\0"s, "10.0.0.9\0 10.0.0.8"s}) {
    auto parsed = IpAddress::parse(text);
    EXPECT_FALSE(parsed.ok()) << "parsed as " << parsed->to_string() << " (" << text.size() << " bytes)";
    if (!parsed.ok()) {
      // The message quotes the input: the NUL must not cut it short or reach
      // a client as a raw control character.
      EXPECT_EQ(parsed.message().find('\0'), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace bwalloc
