// Discovery's parsers on sample texts (OUI list, dnsmasq leases, hostile
// names), and the real neighbour table of a namespace the test makes.
#include <gtest/gtest.h>
#include <unistd.h>

#include "agent/datapath/rtnetlink.h"
#include "agent/discovery/discovery.h"
#include "agent/runtime/netns.h"

namespace bwalloc {
namespace {

TEST(Discovery, ParsesTheIeeeOuiList) {
  auto oui = parse_oui(
      "OUI/MA-L                                                    Organization\n"
      "company_id                                                  Organization\n"
      "                                                            Address\n\n"
      "28-6F-B9   (hex)\t\tNokia Shanghai Bell Co., Ltd.\n"
      "286FB9     (base 16)\t\tNokia Shanghai Bell Co., Ltd.\n"
      "\t\t\t\tNo.388 Ning Qiao Road,Jin Qiao Pudong Shanghai\n\n"
      "08-EA-44   (hex)\t\tExtreme Networks Headquarters\r\n");
  EXPECT_EQ(oui.size(), 2u);
  EXPECT_EQ(oui["28:6f:b9"], "Nokia Shanghai Bell Co., Ltd.");
  EXPECT_EQ(oui["08:ea:44"], "Extreme Networks Headquarters");
}

TEST(Discovery, ParsesDnsmasqLeasesAndSkipsGarbage) {
  auto leases = parse_dnsmasq_leases(
      "1764000000 02:00:00:00:00:11 10.10.0.11 laptop 01:02:00:00:00:00:11\n"
      "1764000000 02:00:00:00:00:12 10.10.0.12 * *\n"
      "garbage line\n"
      "1764000000 02:00:00:00:00:13 not-an-ip phone *\n"
      "1764000000 00:11:22:33:44:55 fd00:10::20 printer *\n");
  ASSERT_EQ(leases.size(), 2u);
  EXPECT_EQ(leases[IpAddress::parse("10.10.0.11").value()], "laptop");
  EXPECT_EQ(leases[IpAddress::parse("fd00:10::20").value()], "printer");
}

TEST(Discovery, NamesAreSanitized) {
  EXPECT_EQ(sanitize_name("tv\x1b[31m\n<b>"), "tv[31m<b>") << "control characters removed, markup kept as text";
  EXPECT_EQ(sanitize_name(std::string(400, 'a')).size(), 253u);
}

TEST(Discovery, ReadsTheKernelNeighbourTable) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make a network namespace";
  system("ip netns del bwt-disc 2>/dev/null");
  ASSERT_EQ(system("ip netns add bwt-disc && ip -n bwt-disc link add v0 type veth peer name v1 && "
                   "ip -n bwt-disc link set v0 up && ip -n bwt-disc link set v1 up && "
                   "ip -n bwt-disc addr add 10.99.0.1/24 dev v0 && "
                   "ip -n bwt-disc neigh add 10.99.0.7 lladdr 02:aa:bb:cc:dd:07 dev v0 nud permanent"),
            0);
  std::vector<Neighbour> found;
  {
    auto ns = NetnsSwitch::enter("bwt-disc");
    ASSERT_TRUE(ns.ok()) << ns.message();
    auto rtnl = RtnlSocket::open();
    ASSERT_TRUE(rtnl.ok());
    auto neighbours = read_neighbours(*rtnl, 0);
    ASSERT_TRUE(neighbours.ok()) << neighbours.message();
    found = *neighbours;
  }
  system("ip netns del bwt-disc");
  bool seen = false;
  for (const auto& n : found) seen = seen || (n.ip.to_string() == "10.99.0.7" && n.mac == "02:aa:bb:cc:dd:07");
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace bwalloc
