/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-device counting. The counter map is per-CPU, so plain increments are
 * safe: each CPU owns its copy and the agent sums them. */
#ifndef BWA_LIB_COUNTERS_H
#define BWA_LIB_COUNTERS_H

#include "lib/clock.h"
#include "lib/maps.h"

/* The device's counters on this CPU, created on first sight. NULL only when
 * the LRU insert itself failed (counted in bwa_global). */
static __always_inline struct bwa_counters *bwa_counters_for(const struct bwa_addr *device)
{
	struct bwa_counters *c = bpf_map_lookup_elem(&bwa_counters, device);
	struct bwa_global *g;

	if (c)
		return c;
	{
		struct bwa_counters zero = {};

		g = bwa_get_global();
		/* BPF_NOEXIST: another CPU may have created it meanwhile; then
		 * the lookup below finds that entry. */
		if (bpf_map_update_elem(&bwa_counters, device, &zero, BPF_NOEXIST) == 0) {
			if (g)
				g->new_devices++;
		}
	}
	c = bpf_map_lookup_elem(&bwa_counters, device);
	if (!c) {
		g = bwa_get_global();
		if (g)
			g->counter_insert_failures++;
	}
	return c;
}

static __always_inline void bwa_count(struct bwa_counters *c, int dir, __u64 len, __u32 port_class)
{
	if (!c)
		return;
	c->bytes[dir & 1] += len;
	c->packets[dir & 1] += 1;
	if (port_class & BWA_PORT_PRIORITY)
		c->priority_bytes[dir & 1] += len;
	if (port_class & BWA_PORT_UNLIMITED)
		c->unlimited_bytes[dir & 1] += len;
	c->last_seen_ns = bwa_coarse_now_ns();
}

static __always_inline void bwa_count_blocked(struct bwa_counters *c, int dir)
{
	if (!c)
		return;
	c->blocked_drops[dir & 1]++;
	c->last_seen_ns = bwa_coarse_now_ns();
}

static __always_inline void bwa_count_unparsed(void)
{
	struct bwa_global *g = bwa_get_global();

	if (g)
		g->unparsed_packets++;
}

#endif /* BWA_LIB_COUNTERS_H */
