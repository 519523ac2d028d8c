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
#define BWA_LAYOUT_VERSION 4

/* Default sizes; the agent may shrink or grow the device maps before load. */
#define BWA_DEFAULT_MAX_DEVICES 65536
#define BWA_MAX_SLOTS 65536 /* slot 0 means "no slot"; must fit the mark bits */

/* Port classes are a bitmap of two bits per TCP port and per UDP port, in
 * 64-bit words of an array map (2 x 65,536 x 2 bits = 32 KiB), so the check
 * is an inlined array access instead of a hash lookup. */
#define BWA_PORT_WORDS (2 * 65536 / 32)
#define BWA_PORT_PRIORITY (1u << 0)  /* counted against the limit, fast lane while sparse */
#define BWA_PORT_UNLIMITED (1u << 1) /* counted, never paced (an operator's explicit choice) */

/* The flow table of the fast lane: sets of BWA_FLOW_WAYS flows, indexed by a
 * hash of (slot, direction, 5-tuple). 65,536 sets x 2 ways x 32 B = 4 MiB,
 * 131,072 flows for all devices together, whatever their number. */
#define BWA_FLOW_SETS 65536
#define BWA_FLOW_WAYS 2
/* A flow is sparse while it is at most this many bytes ahead of its fair
 * share of the device's rate (fq_codel's and cake's quantum: one MTU);
 * priority-port flows get BWA_FLOW_PRIORITY_QUANTA of them. */
#define BWA_FLOW_QUANTUM 1514
#define BWA_FLOW_PRIORITY_QUANTA 4
/* A device's active flows are counted per epoch of this length. */
#define BWA_FLOW_EPOCH_NS 100000000ull
/* A bulk flow far above its fair share (bwa_settings.fair_quanta) loses at
 * most one packet per this interval to tell it (fq_codel's interval). */
#define BWA_FLOW_SIGNAL_NS 100000000ull
#define BWA_DEFAULT_FAIR_QUANTA 16
/* The largest packet one bulk admission can add to a device's clock (a GSO
 * packet of 64 KiB plus its segments' headers): the fast lane's bound sits
 * above it, so one big bulk packet never makes the fast lane drop. */
#define BWA_MAX_GSO_BYTES 70000
/* At low rates a time horizon holds too few packets for TCP to recover a
 * loss by fast retransmit (20 ms at 5 Mbit/s is 8 full-size frames shared by
 * every flow: a loss means a 200 ms retransmission timeout). The horizon and
 * the CE target are at least this many full-size frames of the device's
 * time, as cake raises codel's target at low rates. Interactive traffic does
 * not wait in this queue: it takes the fast lane. */
#define BWA_MIN_HORIZON_FRAMES 32
#define BWA_MIN_CE_TARGET_FRAMES 2

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
#define BWA_POLICY_BLOCKED (1u << 0)	/* drop everything, priority and unlimited ports too */
#define BWA_POLICY_EXEMPT_ALL (1u << 1) /* count only, never pace */

/* bwa_settings.flags */
/* XDP not attached: tc ingress counts and drops */
#define BWA_SETTING_TC_INGRESS_COUNTS (1u << 0)
#define BWA_SETTING_ECN (1u << 1) /* mark CE above ce_target instead of only dropping */

/* An IPv4 or IPv6 address in network byte order; IPv4 is IPv4-mapped
 * (::ffff:a.b.c.d) so one key type serves both families. */
struct bwa_addr {
	__u8 bytes[16];
};

/* bwa_policy value: written by the agent only, read by every program. */
struct bwa_policy {
	__u64 rate_bytes_per_sec[2]; /* [BWA_DIR_*]; 0 = unlimited */
	__u32 slot;		     /* index into bwa_edt / bwa_slot_addr; 0 = none */
	__u8 priority;		     /* BWA_PRIO_* (informational for the datapath) */
	__u8 flags;		     /* BWA_POLICY_* */
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
	__u64 jiffies; /* bpf_jiffies64() when copied */
	struct bwa_policy policy;
	__u32 state;	  /* BWA_CACHE_* */
	__u32 generation; /* bwa_settings.policy_generation when copied */
};

/* bwa_counters value, per CPU (summed by the agent). Bytes are L2 frame
 * lengths as the kernel sees them (skb->len / XDP frame length). */
struct bwa_counters {
	__u64 bytes[2]; /* [BWA_DIR_*] */
	__u64 packets[2];
	__u64 priority_bytes[2];  /* subset of bytes on a priority port */
	__u64 unlimited_bytes[2]; /* subset of bytes on an unlimited port (never paced) */
	__u64 sparse_packets[2];  /* limited packets that took the fast lane (sent at once) */
	__u64 blocked_drops[2];	  /* packets dropped because the device is Blocked */
	__u64 horizon_drops[2];	  /* packets dropped because the EDT queue passed the horizon */
	__u64 fair_drops[2];	  /* bulk packets dropped to slow a flow far above its fair share */
	__u64 ce_marks[2];	  /* packets marked ECN CE because the EDT queue passed ce_target */
	__u64 last_seen_ns; /* CLOCK_MONOTONIC of the newest packet on this CPU (to a jiffy) */
	struct bwa_policy_cache policy_cache; /* datapath-internal, not a counter */
};

/* bwa_edt value, one per slot and direction (index slot * 2 + dir), shared
 * by all CPUs: the pacing clock of one device in one direction, and how
 * many flows share it (for each flow's fair share). */
struct bwa_edt_state {
	__u64 t_last_ns;  /* departure time of the device's newest packet */
	__u64 epoch_ns;	  /* start of the current flow-count epoch */
	__u32 flows_now;  /* distinct flows seen in this epoch */
	__u32 flows_prev; /* ... in the previous epoch (0 if it was idle) */
};

/* One flow of one device in one direction (see BWA_FLOW_*). Written by the
 * egress programs from every CPU; the agent never reads it. */
struct bwa_flow {
	__u32 tag;	    /* hash bits that name the flow; 0 = free */
	__u32 epoch;	    /* epoch_ns >> 16 of the epoch the flow was last counted in */
	__u64 departure_ns; /* departure time of its newest packet */
	__u64 fair_ns;	    /* when its bytes would have left at its fair share */
	__u64 signal_ns;    /* its last fairness drop */
};

/* bwa_flows value: one set of the flow table. */
struct bwa_flow_set {
	struct bwa_flow way[BWA_FLOW_WAYS];
};

/* bwa_ports: word index and bit shift of a protocol/port pair's two class
 * bits (BWA_PORT_*) in the port bitmap (array of BWA_PORT_WORDS __u64). TCP
 * ports take words 0-2047, UDP ports 2048-4095; other protocols have no
 * class. Shared by the programs and the agent so the bitmap has one
 * definition. */
static inline __u32 bwa_port_word(int udp, __u16 port)
{
	return (udp ? 2048u : 0u) + (port >> 5);
}

static inline __u32 bwa_port_shift(__u16 port)
{
	return (port & 31) * 2;
}

/* bwa_settings value (array, one entry): runtime settings the agent writes. */
struct bwa_settings {
	__u64 horizon_ns;   /* drop when a packet would wait longer than this */
	__u64 ce_target_ns; /* mark CE when a packet would wait longer than this */
	__u32 flags;	    /* BWA_SETTING_* */
	__u32 layout_version;
	__u32 policy_generation; /* changed by the agent after writing policies (bwa_policy_cache)
				  */
	__u32 fair_quanta; /* fairness drop when a bulk flow is this many quanta ahead of its share;
			      0 = off */
};

/* bwa_global value, per CPU: datapath health the agent reports. */
struct bwa_global {
	__u64 unparsed_packets;	       /* passed through untouched (fail open) */
	__u64 counter_insert_failures; /* a device could not get a counter entry */
	__u64 new_devices;	       /* counter entries created by the datapath */
	__u64 unshaped_no_slot;	       /* limited traffic seen without an EDT slot */
};

#endif /* BWALLOC_MAPS_H */
