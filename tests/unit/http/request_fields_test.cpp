// request_fields.h: what each typed field accepts, and that what it refuses
// gets a message naming the field.
#include "agent/http/request_fields.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace bwalloc {
namespace {

HttpRequest with_body(const std::string& body) {
  HttpRequest r;
  r.body = body;
  return r;
}

TEST(HttpRequestFieldsTest, BodyIsOneJsonObject) {
  EXPECT_TRUE(body_object(with_body(R"({"ip":"10.0.0.1"})")).ok());
  EXPECT_NE(body_object(with_body("not json")).message().find("not JSON"), std::string::npos);
  EXPECT_NE(body_object(with_body("[1,2]")).message().find("object"), std::string::npos);
  EXPECT_FALSE(body_object(with_body("")).ok());
}

TEST(HttpRequestFieldsTest, IpIsARequiredAddressString) {
  EXPECT_EQ(ip_field(boost::json::object{{"ip", "10.0.0.1"}})->to_string(), "10.0.0.1");
  EXPECT_NE(ip_field(boost::json::object{}).message().find("'ip' is required"), std::string::npos);
  EXPECT_NE(ip_field(boost::json::object{{"ip", 7}}).message().find("'ip'"), std::string::npos);
  EXPECT_FALSE(ip_field(boost::json::object{{"ip", "10.0.0.1; reboot"}}).ok());
}

TEST(HttpRequestFieldsTest, PriorityByNameNumberOrAuto) {
  EXPECT_EQ(*priority_value("Low"), std::optional<Priority>(Priority::Low));
  EXPECT_EQ(*priority_value(0), std::optional<Priority>(Priority::Blocked));
  EXPECT_EQ(*priority_value("auto"), std::nullopt);
  EXPECT_EQ(*priority_value("Auto"), std::nullopt);
  for (const boost::json::value& bad : {boost::json::value("Turbo"), boost::json::value(9), boost::json::value(true)}) {
    EXPECT_NE(priority_value(bad).message().find("unknown priority"), std::string::npos) << bad;
  }
  EXPECT_NE(priority_field(boost::json::object{}).message().find("'priority' is required"), std::string::npos);
  EXPECT_EQ(*priority_field(boost::json::object{{"priority", "High"}}), std::optional<Priority>(Priority::High));
}

TEST(HttpRequestFieldsTest, TimesAreMillisecondsFromZeroUp) {
  const QueryParams q = {
      {"from", "1700000000000"}, {"empty", ""}, {"neg", "-1"}, {"junk", "12x"}, {"huge", "99999999999999999999"}};
  EXPECT_EQ(*millis_param(q, "from", 5), 1'700'000'000'000);
  EXPECT_EQ(*millis_param(q, "absent", 5), 5);
  EXPECT_EQ(*millis_param(q, "empty", 5), 5);
  for (const char* bad : {"neg", "junk", "huge"}) EXPECT_FALSE(millis_param(q, bad, 5).ok()) << bad;
}

TEST(HttpRequestFieldsTest, ResolutionIsOneOfFour) {
  EXPECT_EQ(*resolution_param({}), HistoryResolution::Raw);
  EXPECT_EQ(*resolution_param({{"resolution", "raw"}}), HistoryResolution::Raw);
  EXPECT_EQ(*resolution_param({{"resolution", "minute"}}), HistoryResolution::Minute);
  EXPECT_EQ(*resolution_param({{"resolution", "hour"}}), HistoryResolution::Hour);
  EXPECT_EQ(*resolution_param({{"resolution", "day"}}), HistoryResolution::Day);
  EXPECT_NE(resolution_param({{"resolution", "week"}}).message().find("raw, minute, hour or day"), std::string::npos);
}

}  // namespace
}  // namespace bwalloc
