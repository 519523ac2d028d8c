// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The bwalloc datapath: four thin entry points that dispatch to bpf/lib/.
 *
 *   bwa_xdp_ingress    XDP on LAN ingress: count upload by source, drop Blocked.
 *   bwa_tc_ingress     tc on LAN ingress: mark the device's slot for WAN egress;
 *                      counts and drops too when XDP is not attached.
 *   bwa_tc_egress      tc on LAN egress: count download by destination, drop
 *                      Blocked, EDT-pace download (fast lane for sparse flows).
 *   bwa_tc_wan_egress  tc on WAN egress: EDT-pace upload by the slot mark (the
 *                      source address is NATed by now).
 *
 * Every program fails open: a packet it cannot parse passes untouched.
 * tc programs return TC_ACT_OK (not TC_ACT_UNSPEC) so a later filter of
 * another tool on the same hook still runs only if it comes first: we are a
 * direct-action filter with our own priority and never decide for others.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "bwalloc_maps.h"
#include "lib/counters.h"
#include "lib/edt.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/policy.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Upload accounting shared by XDP and the tc fallback. Stores the source's
 * policy (NULL: none) in *policy_out for the caller. Returns 1 to drop. */
static __always_inline int bwa_account_upload(const struct bwa_packet *pkt, __u64 len,
					      const struct bwa_policy **policy_out)
{
	struct bwa_counters *c = bwa_counters_for(&pkt->src);
	const struct bwa_policy *policy = bwa_policy_via(c, &pkt->src);

	*policy_out = policy;
	if (bwa_is_blocked(policy)) {
		bwa_count_blocked(c, BWA_DIR_UP);
		return 1;
	}
	bwa_count(c, BWA_DIR_UP, len, bwa_port_class(pkt));
	return 0;
}

SEC("xdp")
int bwa_xdp_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const struct bwa_policy *policy;
	struct bwa_packet pkt;
	int parsed = bwa_parse_packet(data, data_end, &pkt);

	if (parsed == PARSE_BAD) {
		bwa_count_unparsed();
		return XDP_PASS;
	}
	if (parsed == PARSE_NOT_IP)
		return XDP_PASS;
	return bwa_account_upload(&pkt, data_end - data, &policy) ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int bwa_tc_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct bwa_settings *settings = bwa_get_settings();
	const struct bwa_policy *policy;
	struct bwa_packet pkt;
	int parsed = bwa_parse_packet(data, data_end, &pkt);

	if (parsed == PARSE_BAD) {
		if (settings && (settings->flags & BWA_SETTING_TC_INGRESS_COUNTS))
			bwa_count_unparsed();
		return TC_ACT_OK;
	}
	if (parsed == PARSE_NOT_IP)
		return TC_ACT_OK;
	if (settings && (settings->flags & BWA_SETTING_TC_INGRESS_COUNTS)) {
		if (bwa_account_upload(&pkt, bwa_wire_len(skb, &pkt), &policy))
			return TC_ACT_SHOT;
	} else {
		/* XDP counts: no counter entry here, so no cached policy either. */
		policy = bwa_policy_for(&pkt.src);
	}

	if (policy && policy->slot && policy->slot < BWA_MAX_SLOTS) {
		__u32 mark = (skb->mark & ~BWA_MARK_MASK) | (policy->slot << BWA_MARK_SHIFT);

		/* The verifier only allows 32-bit stores to skb->mark; the barrier
		 * stops clang from narrowing this one to a 16-bit store. */
		asm volatile("" : "+r"(mark));
		skb->mark = mark;
	}
	return TC_ACT_OK;
}

/* Pacing shared by both egress programs. Returns a TC verdict. Every byte
 * of a limited device is paced, priority ports included; only an
 * operator's unlimited ports and exempt-all devices pass unpaced. */
static __always_inline int bwa_pace(struct __sk_buff *skb, const struct bwa_packet *pkt,
				    __u64 wire_len, const struct bwa_policy *policy,
				    struct bwa_counters *c, int dir, __u32 port_class)
{
	struct bwa_settings *settings;
	struct bwa_global *g;
	__u64 rate;

	if (!policy || (port_class & BWA_PORT_UNLIMITED) || (policy->flags & BWA_POLICY_EXEMPT_ALL))
		return TC_ACT_OK;
	rate = policy->rate_bytes_per_sec[dir & 1];
	if (rate == 0)
		return TC_ACT_OK;
	if (policy->slot == 0 || policy->slot >= BWA_MAX_SLOTS) {
		g = bwa_get_global();
		if (g)
			g->unshaped_no_slot++;
		return TC_ACT_OK;
	}
	settings = bwa_get_settings();
	if (bwa_edt_pace(skb, pkt, wire_len, policy->slot, dir, rate, settings, c, port_class) ==
	    EDT_DROP)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("tc")
int bwa_tc_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	const struct bwa_policy *policy;
	struct bwa_counters *c;
	struct bwa_packet pkt;
	int parsed = bwa_parse_packet(data, data_end, &pkt);
	__u64 wire_len;
	__u32 port_class;

	if (parsed == PARSE_BAD) {
		bwa_count_unparsed();
		return TC_ACT_OK;
	}
	if (parsed == PARSE_NOT_IP)
		return TC_ACT_OK;

	c = bwa_counters_for(&pkt.dst);
	policy = bwa_policy_via(c, &pkt.dst);
	if (bwa_is_blocked(policy)) {
		bwa_count_blocked(c, BWA_DIR_DOWN);
		return TC_ACT_SHOT;
	}
	port_class = bwa_port_class(&pkt);
	wire_len = bwa_wire_len(skb, &pkt);
	if (bwa_pace(skb, &pkt, wire_len, policy, c, BWA_DIR_DOWN, port_class) == TC_ACT_SHOT)
		return TC_ACT_SHOT;
	bwa_count(c, BWA_DIR_DOWN, wire_len, port_class);
	return TC_ACT_OK;
}

SEC("tc")
int bwa_tc_wan_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 slot = skb->mark >> BWA_MARK_SHIFT;
	struct bwa_policy *policy;
	struct bwa_counters *c;
	struct bwa_addr *device;
	struct bwa_packet pkt;

	if (slot == 0 || slot >= BWA_MAX_SLOTS)
		return TC_ACT_OK;
	/* Unparseable traffic of a marked device was already counted as
	 * unparsed on LAN ingress if at all; do not count it twice. */
	if (bwa_parse_packet(data, data_end, &pkt) != PARSE_OK)
		return TC_ACT_OK;
	device = bpf_map_lookup_elem(&bwa_slot_addr, &slot);
	if (!device)
		return TC_ACT_OK;
	policy = bwa_policy_for(device);
	/* Lookup only: the device was counted on LAN ingress, and a missing
	 * entry (evicted) is no reason to create one here. */
	c = bpf_map_lookup_elem(&bwa_counters, device);
	if (!policy || policy->slot != slot)
		return TC_ACT_OK; /* the slot was reassigned since the mark was set */
	return bwa_pace(skb, &pkt, bwa_wire_len(skb, &pkt), policy, c, BWA_DIR_UP,
			bwa_port_class(&pkt));
}
