// Where libbpf's own messages go: into the agent's log at debug level.
#pragma once

namespace bwalloc {

// libbpf prints every kernel refusal it expects and handles (e.g. "filter
// not found" while probing for our own filter); kept at debug level so an
// operator sees the datapath's one-line explanations instead. Idempotent;
// call before the first libbpf call of an entry point.
void route_libbpf_logs();

}  // namespace bwalloc
