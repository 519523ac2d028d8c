// The /api/devices body cache; see device_list_cache.h.
#include "agent/http/device_list_cache.h"

#include <boost/json.hpp>

#include "agent/http/json_views.h"

namespace bwalloc {

std::shared_ptr<const std::string> DeviceListCache::body_for(std::shared_ptr<const Snapshot> snapshot) {
  std::lock_guard lock(mutex_);
  if (snapshot_ != snapshot || !body_) {
    boost::json::array list;
    list.reserve(snapshot->devices.size());
    for (const auto& d : snapshot->devices) list.push_back(device_json(d));
    body_ = std::make_shared<const std::string>(boost::json::serialize(boost::json::object{{"devices", list}}));
    snapshot_ = std::move(snapshot);
  }
  return body_;
}

}  // namespace bwalloc
