// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The baseline for the datapath cost bench: parse Ethernet + IPv4 and count
// bytes per source address in a per-CPU hash, nothing else. bwalloc's
// programs are measured against this in the same run.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} min_counts SEC(".maps");

SEC("xdp")
int minimal_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u64 len = data_end - data, *count;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	count = bpf_map_lookup_elem(&min_counts, &ip->saddr);
	if (count) {
		*count += len;
	} else {
		bpf_map_update_elem(&min_counts, &ip->saddr, &len, BPF_NOEXIST);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
