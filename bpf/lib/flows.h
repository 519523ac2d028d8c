/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The flows inside one device's departure clock: which flow a packet
 * belongs to (a set-associative table, bounded whatever the traffic) and
 * how many flows share the device (each flow's fair share). The fast lane
 * and the fairness rules in edt.h are built on these. */
#ifndef BWA_LIB_FLOWS_H
#define BWA_LIB_FLOWS_H

#include "lib/compiler.h"
#include "lib/maps.h"
#include "lib/parse.h"

/* Folds an address to 32 bits; IPv4-mapped addresses keep all their bits. */
static __always_inline __u32 bwa_addr_fold(const struct bwa_addr *a)
{
	__u32 w[4];

	__builtin_memcpy(w, a->bytes, sizeof(w));
	return w[0] ^ w[1] ^ w[2] ^ w[3];
}

/* A hash of the flow within its device and direction: the multiplies mix
 * every input bit into the high half, which names the set and the tag. */
static __always_inline __u64 bwa_flow_hash(const struct bwa_packet *pkt, __u32 slot, int dir)
{
	__u64 h = ((__u64)slot << 1 | (dir & 1)) ^ ((__u64)pkt->l4_protocol << 32);

	h = (h ^ bwa_addr_fold(&pkt->src)) * 0x9E3779B97F4A7C15ull;
	h = (h ^ bwa_addr_fold(&pkt->dst)) * 0xC2B2AE3D27D4EB4Full;
	h = (h ^ ((__u32)pkt->src_port << 16 | pkt->dst_port)) * 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 31);
}

/* The packet's flow entry, taking a way for a new flow. A way is only
 * taken from a flow with nothing queued (its last departure has passed), so
 * a flow is never forgotten while it has packets in fq, which would let its
 * next packet overtake them. NULL when both ways hold queued flows: the
 * packet is paced as bulk without flow state (never sparse, never unlimited). */
static __always_inline struct bwa_flow *bwa_flow_for(const struct bwa_packet *pkt, __u32 slot,
						     int dir, __u64 now)
{
	__u64 h = bwa_flow_hash(pkt, slot, dir);
	__u32 set_index = (__u32)(h >> 48) & (BWA_FLOW_SETS - 1);
	__u32 tag = (__u32)h | 1;
	struct bwa_flow_set *set = bpf_map_lookup_elem(&bwa_flows, &set_index);
	struct bwa_flow *victim;

	if (!set)
		return NULL;
	if (set->way[0].tag == tag)
		return &set->way[0];
	if (set->way[1].tag == tag)
		return &set->way[1];
	/* The way whose flow left longest ago, if it has nothing queued. */
	victim = set->way[0].departure_ns <= set->way[1].departure_ns ? &set->way[0] : &set->way[1];
	if (victim->tag && victim->departure_ns > now)
		return NULL;
	victim->tag = tag;
	victim->epoch = 0;
	victim->departure_ns = 0;
	victim->fair_ns = 0;
	victim->signal_ns = 0;
	return victim;
}

/* How many flows share the device's clock: the distinct flows seen in this
 * epoch or the previous one, whichever is more (at least 1). Counts `flow`
 * in the current epoch. Updated by every CPU without atomics: a lost
 * increment undercounts by one flow for one epoch. */
static __always_inline __u32 bwa_active_flows(struct bwa_edt_state *state, struct bwa_flow *flow,
					      __u64 now)
{
	__u64 epoch = READ_ONCE(state->epoch_ns);
	__u32 flows_now, flows_prev;

	if ((__s64)(now - epoch) >= (__s64)BWA_FLOW_EPOCH_NS) {
		/* An epoch with no packet at all means nothing is active. */
		state->flows_prev = now - epoch < 2 * BWA_FLOW_EPOCH_NS ? state->flows_now : 0;
		state->flows_now = 0;
		WRITE_ONCE(state->epoch_ns, now);
		epoch = now;
	}
	if (flow && flow->epoch != (__u32)(epoch >> 16)) {
		flow->epoch = (__u32)(epoch >> 16);
		state->flows_now++;
	}
	flows_now = state->flows_now;
	flows_prev = state->flows_prev;
	flows_now = flows_now > flows_prev ? flows_now : flows_prev;
	return flows_now ? flows_now : 1;
}

#endif /* BWA_LIB_FLOWS_H */
