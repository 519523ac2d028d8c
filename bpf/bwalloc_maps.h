/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one contract between the BPF datapath and the C++ agent: every map
 * key, value, flag and limit. Included by the bpf/ programs and by agent/datapath.
 * Fixed-width types only; the C++ side static_asserts every size, so a layout
 * change shows up at compile time instead of as garbage in a map.
 */
#ifndef BWALLOC_MAPS_H
#define BWALLOC_MAPS_H

#include <linux/types.h>

/* Bumped whenever a map layout below changes: pinned maps carry it in
 * bwa_settings.layout_version so a new agent never trusts an old layout. */
#define BWA_LAYOUT_VERSION 3

/* Default sizes; the agent may shrink or grow the device maps before load. */
#define BWA_DEFAULT_MAX_DEVICES 65536
#define BWA_MAX_SLOTS 65536   /* slot 0 means "no slot"; must fit the mark bits */

/* Exempt ports are a bitmap: one bit per TCP port and one per UDP port,
 * in 64-bit words of an array map (2 x 65,536 bits = 16 KiB), so the check
 * is an inlined array access instead of a hash lookup. */
#define BWA_EXEMPT_WORDS (2 * 65536 / 64)

/* Upload shaping happens on WAN egress, after NAT rewrote the source address,
 * so LAN ingress stores the device's slot in the upper 16 bits of skb->mark. */
#define BWA_MARK_SHIFT 16
#define BWA_MARK_MASK 0xFFFF0000u

/* Directions, from the device's point of view. */
#define BWA_DIR_UP 0   /* device -> router (LAN ingress, WAN egress) */
#define BWA_DIR_DOWN 1 /* router -> device (LAN egress) */

/* Priority classes (values match the original system's API). */
#define BWA_PRIO_BLOCKED 0
#define BWA_PRIO_HIGH 1
#define BWA_PRIO_NORMAL 2
#define BWA_PRIO_LOW 3

/* bwa_policy.flags */
#define BWA_POLICY_BLOCKED (1u << 0)    /* drop everything, exempt ports too */
#define BWA_POLICY_EXEMPT_ALL (1u << 1) /* count only, never pace */

/* bwa_settings.flags */
#define BWA_SETTING_TC_INGRESS_COUNTS (1u << 0) /* XDP not attached: tc ingress counts and drops */
#define BWA_SETTING_ECN (1u << 1)               /* mark CE above ce_target instead of only dropping */

/* An IPv4 or IPv6 address in network byte order; IPv4 is IPv4-mapped
 * (::ffff:a.b.c.d) so one key type serves both families. */
struct bwa_addr {
	__u8 bytes[16];
};

/* bwa_policy value: written by the agent only, read by every program. */
struct bwa_policy {
	__u64 rate_bytes_per_sec[2]; /* [BWA_DIR_*]; 0 = unlimited */
	__u32 slot;                  /* index into bwa_edt / bwa_slot_addr; 0 = none */
	__u8 priority;               /* BWA_PRIO_* (informational for the datapath) */
	__u8 flags;                  /* BWA_POLICY_* */
	__u16 reserved;
};

/* bwa_policy_cache.state */
#define BWA_CACHE_FILLED (1u << 0)     /* copied at `jiffies` */
#define BWA_CACHE_HAS_POLICY (1u << 1) /* the device had a policy then */

/* One CPU's copy of a device's policy, kept in that CPU's counter entry so
 * the programs skip the policy lookup (the counter lookup is needed anyway).
 * Written by the datapath only; the agent ignores it. The copy is used
 * while bwa_settings.policy_generation is unchanged (the agent bumps it
 * after every batch of policy writes, so its changes apply at the next
 * packet, as without a copy) and at most until the jiffy ends, so a writer
 * that does not bump (a test, a tool) is seen within one jiffy (1-10 ms). */
struct bwa_policy_cache {
	__u64 jiffies;           /* bpf_jiffies64() when copied */
	struct bwa_policy policy;
	__u32 state;             /* BWA_CACHE_* */
	__u32 generation;        /* bwa_settings.policy_generation when copied */
};

/* bwa_counters value, per CPU (summed by the agent). Bytes are L2 frame
 * lengths as the kernel sees them (skb->len / XDP frame length). */
struct bwa_counters {
	__u64 bytes[2];           /* [BWA_DIR_*] */
	__u64 packets[2];
	__u64 exempt_bytes[2];    /* subset of bytes that matched an exempt port */
	__u64 blocked_drops[2];   /* packets dropped because the device is Blocked */
	__u64 horizon_drops[2];   /* packets dropped because the EDT queue passed the horizon */
	__u64 ce_marks[2];        /* packets marked ECN CE because the EDT queue passed ce_target */
	__u64 last_seen_ns;       /* CLOCK_MONOTONIC of the newest packet on this CPU (to a jiffy) */
	struct bwa_policy_cache policy_cache; /* datapath-internal, not a counter */
};

/* bwa_edt value, one per slot and direction (index slot * 2 + dir), shared
 * by all CPUs: the pacing clock of one device in one direction. */
struct bwa_edt_state {
	__u64 t_last_ns;
};

/* bwa_exempt: word index and bit of a protocol/port pair in the exempt
 * bitmap (array of BWA_EXEMPT_WORDS __u64). TCP ports take words 0-1023,
 * UDP ports 1024-2047; other protocols are never exempt. Shared by the
 * programs and the agent so the bitmap has one definition. */
static inline __u32 bwa_exempt_word(int udp, __u16 port)
{
	return (udp ? 1024u : 0u) + (port >> 6);
}

static inline __u64 bwa_exempt_bit(__u16 port)
{
	return 1ull << (port & 63);
}

/* bwa_settings value (array, one entry): runtime settings the agent writes. */
struct bwa_settings {
	__u64 horizon_ns;   /* drop when a packet would wait longer than this */
	__u64 ce_target_ns; /* mark CE when a packet would wait longer than this */
	__u32 flags;        /* BWA_SETTING_* */
	__u32 layout_version;
	__u32 policy_generation; /* changed by the agent after writing policies (bwa_policy_cache) */
	__u32 reserved;
};

/* bwa_global value, per CPU: datapath health the agent reports. */
struct bwa_global {
	__u64 unparsed_packets;   /* passed through untouched (fail open) */
	__u64 counter_insert_failures; /* a device could not get a counter entry */
	__u64 new_devices;        /* counter entries created by the datapath */
	__u64 unshaped_no_slot;   /* limited traffic seen without an EDT slot */
};

#endif /* BWALLOC_MAPS_H */
