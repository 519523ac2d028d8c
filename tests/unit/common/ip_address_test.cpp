// IpAddress parses what an operator types and nothing else, and keys IPv4
// exactly as the BPF maps do (IPv4-mapped IPv6).
#include "agent/common/ip_address.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

TEST(IpAddress, ParsesIpv4AsMapped) {
  auto a = IpAddress::parse("10.10.0.2");
  ASSERT_TRUE(a.ok()) << a.message();
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->bytes()[10], 0xff);
  EXPECT_EQ(a->bytes()[11], 0xff);
  EXPECT_EQ(a->bytes()[12], 10);
  EXPECT_EQ(a->bytes()[15], 2);
  EXPECT_EQ(a->to_string(), "10.10.0.2");
  EXPECT_EQ(*a, IpAddress::from_v4(0x0a0a0002));
}

TEST(IpAddress, ParsesIpv6) {
  auto a = IpAddress::parse("fd00:10::2");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->is_v4());
  EXPECT_EQ(a->to_string(), "fd00:10::2");
}

TEST(IpAddress, RejectsEverythingElse) {
  for (const char* bad :
       {"", "10.0.0", "10.0.0.256", " 10.0.0.1", "10.0.0.1;reboot", "host.lan", "10.0.0.0/24", "fd00::1::2"}) {
    auto a = IpAddress::parse(bad);
    EXPECT_FALSE(a.ok()) << bad;
    if (!a.ok()) {
      EXPECT_NE(a.message().find("not an IP address"), std::string::npos);
    }
  }
}

TEST(IpAddress, DeviceAddressesExcludeMulticastBroadcastAndLinkLocal) {
  for (const char* device : {"10.10.0.11", "192.168.1.20", "fd00:10::11", "2001:db8::5"}) {
    EXPECT_TRUE(IpAddress::parse(device)->is_device_address()) << device;
  }
  for (const char* other : {"0.0.0.0", "127.0.0.1", "224.0.0.251", "239.255.255.250", "255.255.255.255", "::", "::1",
                            "ff02::16", "fe80::1ce9:5eff:fe41:71d8"}) {
    EXPECT_FALSE(IpAddress::parse(other)->is_device_address()) << other;
  }
}

}  // namespace
}  // namespace bwalloc
