// AgentControl: the seam between the HTTP side and the running agent, the
// union of its three narrow ports. The agent publishes an immutable Snapshot
// each tick (SnapshotSource), runs admin commands on its tick thread
// (AgentCommands) and serves history from the store's reader connection
// (HistoryQueries); the HTTP side never touches the maps. Every method is
// thread-safe.
#pragma once

#include "agent/api/agent_commands.h"
#include "agent/api/agent_views.h"
#include "agent/api/history_queries.h"
#include "agent/api/snapshot_source.h"

namespace bwalloc {

class AgentControl : public SnapshotSource, public AgentCommands, public HistoryQueries {};

}  // namespace bwalloc
