/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Every map of the datapath, declared once. Layouts come from the contract
 * header bwalloc_maps.h; sizes the agent may change are set before load. */
#ifndef BWA_LIB_MAPS_H
#define BWA_LIB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bwalloc_maps.h"

/* Per-device counters. Written by every program (per CPU, no atomics), read
 * and summed by the agent each tick. LRU so that unknown devices appear by
 * themselves and the map can never fill up and stop counting. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, BWA_DEFAULT_MAX_DEVICES);
	__type(key, struct bwa_addr);
	__type(value, struct bwa_counters);
} bwa_counters SEC(".maps");

/* Per-device policy. Written by the agent only; read by every program. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BWA_DEFAULT_MAX_DEVICES);
	__type(key, struct bwa_addr);
	__type(value, struct bwa_policy);
} bwa_policy SEC(".maps");

/* EDT pacing clock per slot and direction (index slot * 2 + dir). Written by
 * the egress programs from every CPU; the agent resets a slot it reassigns. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BWA_MAX_SLOTS * 2);
	__type(key, __u32);
	__type(value, struct bwa_edt_state);
} bwa_edt SEC(".maps");

/* Slot -> device address. Written by the agent; read by WAN egress, which
 * only has the mark (the source address is NATed by then). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BWA_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct bwa_addr);
} bwa_slot_addr SEC(".maps");

/* The fast lane's flow table (see BWA_FLOW_*). Written by the egress
 * programs from every CPU without atomics: two CPUs updating one flow at
 * once may lose one packet's update, which shifts that flow's share by a
 * packet. Neither pinned state nor read by the agent; an array, so the
 * lookup is inlined. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BWA_FLOW_SETS);
	__type(key, __u32);
	__type(value, struct bwa_flow_set);
} bwa_flows SEC(".maps");

/* Port classes as a bitmap (see bwa_port_word). Written by the agent; read
 * by every program that counts or paces. An array, so the lookup is inlined
 * and two ports cost two loads. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BWA_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} bwa_ports SEC(".maps");

/* Runtime settings (one entry). Written by the agent; read by every program. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bwa_settings);
} bwa_settings SEC(".maps");

/* Datapath health counters (one entry per CPU). Written by every program;
 * read by the agent for status and /health. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bwa_global);
} bwa_global SEC(".maps");

static __always_inline struct bwa_settings *bwa_get_settings(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&bwa_settings, &zero);
}

static __always_inline struct bwa_global *bwa_get_global(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&bwa_global, &zero);
}

#endif /* BWA_LIB_MAPS_H */
