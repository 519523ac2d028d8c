// Writes one tick's raw usage rows: the bulk of a tick's SQLite work (one
// row per device that moved; 65,536 at the bench's worst case).
#pragma once

#include <cstdint>
#include <vector>

#include "agent/common/result.h"
#include "agent/store/sqlite_handle.h"
#include "agent/store/store_types.h"

namespace bwalloc {

// Inserts every sample as a usage_raw row stamped ts_ms. Call inside the
// tick's transaction; an error leaves it to the caller to roll back.
[[nodiscard]] Result<void> insert_usage_rows(SqliteDb& db, int64_t ts_ms, const std::vector<UsageSample>& samples);

}  // namespace bwalloc
