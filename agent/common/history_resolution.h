// HistoryResolution: which table a history query reads, from the raw
// samples to the day rollups. One enum from the API down to the store.
#pragma once

namespace bwalloc {

enum class HistoryResolution { Raw, Minute, Hour, Day };

}  // namespace bwalloc
