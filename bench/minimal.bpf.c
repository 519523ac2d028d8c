// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The baseline for the datapath cost bench: parse Ethernet + IPv4 and count
// bytes per source address in a per-CPU hash, nothing else, at the XDP and
// the tc hook. bwalloc's programs are measured against the one at their own
// hook in the same run.
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

/* The same parse and count for either hook: the frame bounds come from the
 * context, the rest is identical. */
static __always_inline void minimal_count_frame(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u64 len = data_end - data, *count;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return;
	count = bpf_map_lookup_elem(&min_counts, &ip->saddr);
	if (count) {
		*count += len;
	} else {
		bpf_map_update_elem(&min_counts, &ip->saddr, &len, BPF_NOEXIST);
	}
}

SEC("xdp")
int minimal_count(struct xdp_md *ctx)
{
	minimal_count_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	return XDP_PASS;
}

/* The baseline of the tc programs: BPF_PROG_TEST_RUN of a tc program builds
 * and walks an skb, which costs a few ns per run more than XDP's frame, so
 * tc programs are compared with this same code at their own hook. */
SEC("tc")
int minimal_count_tc(struct __sk_buff *skb)
{
	minimal_count_frame((void *)(long)skb->data, (void *)(long)skb->data_end);
	return 0; /* TC_ACT_OK */
}

/* The baseline of the paced egress program: the same count plus the one
 * clock read any EDT pacer needs (a helper call that costs as much as a
 * hash lookup), so the ratio measures bwalloc's logic, not the helper. */
SEC("tc")
int minimal_pace_tc(struct __sk_buff *skb)
{
	minimal_count_frame((void *)(long)skb->data, (void *)(long)skb->data_end);
	skb->tstamp = bpf_ktime_get_ns();
	return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
