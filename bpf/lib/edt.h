/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Earliest-Departure-Time pacing of one device in one direction. Gives the
 * packet a departure time (skb->tstamp) that fq honours; drops it when it
 * would wait longer than the horizon, which bounds queueing delay (a router
 * has no socket backpressure, so the horizon must be short); marks ECN CE
 * when it would wait longer than the CE target so TCP backs off first. */
#ifndef BWA_LIB_EDT_H
#define BWA_LIB_EDT_H

#include <linux/pkt_cls.h>

#include "lib/compiler.h"

#include "lib/maps.h"

#define BWA_NSEC_PER_SEC 1000000000ull

enum bwa_edt_verdict {
	EDT_SEND = 0,
	EDT_DROP = 1,
};

static __always_inline int bwa_edt_pace(struct __sk_buff *skb, __u64 wire_len, __u32 slot, int dir, __u64 rate,
					const struct bwa_settings *settings, struct bwa_counters *c,
					int ecn_capable)
{
	__u32 index = slot * 2 + (dir & 1);
	struct bwa_edt_state *state;
	__u64 now, t, next, delay_ns;

	if (rate == 0)
		return EDT_SEND;
	state = bpf_map_lookup_elem(&bwa_edt, &index);
	if (!state)
		return EDT_SEND;

	now = bpf_ktime_get_ns();
	t = skb->tstamp > now ? skb->tstamp : now;
	delay_ns = wire_len * BWA_NSEC_PER_SEC / rate;
	/* t_last is shared by all CPUs and updated without atomics, as
	 * Cilium's EDT does: two CPUs pacing the same device at the same
	 * instant may both read the old value and one advance is lost. That
	 * costs at most a packet's worth of time now and then, far cheaper
	 * than a lock or a compare-and-swap on every packet. */
	next = READ_ONCE(state->t_last_ns) + delay_ns;
	if (next <= t) {
		WRITE_ONCE(state->t_last_ns, t);
		return EDT_SEND;
	}
	/* The horizon bounds the wait beyond the packet's own transmission
	 * time: at low rates one full-size packet alone can take longer than
	 * the horizon, and dropping every second packet would starve TCP. */
	if (settings && next - now > settings->horizon_ns + delay_ns) {
		if (c)
			c->horizon_drops[dir & 1]++;
		return EDT_DROP;
	}
	WRITE_ONCE(state->t_last_ns, next);
	/* fq reads a delivery time in CLOCK_MONOTONIC, which is what
	 * bpf_ktime_get_ns() returns, so plain assignment is right on every
	 * kernel; bpf_skb_set_tstamp() is not needed. */
	skb->tstamp = next;
	if (settings && (settings->flags & BWA_SETTING_ECN) && ecn_capable &&
	    next - now > settings->ce_target_ns) {
		if (bpf_skb_ecn_set_ce(skb) && c)
			c->ce_marks[dir & 1]++;
	}
	return EDT_SEND;
}

#endif /* BWA_LIB_EDT_H */
