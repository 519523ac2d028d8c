/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Earliest-Departure-Time pacing of one device in one direction, with a
 * fast lane inside it (docs/FAST_LANE.md). Gives a packet a departure time
 * (skb->tstamp) that fq honours; a device's limit holds for every byte,
 * whatever its port.
 *
 * - A sparse flow's packet (a flow at most a quantum ahead of its fair
 *   share, with nothing queued: pings, DNS, ACKs, keystrokes, VoIP) leaves
 *   at once and is charged to the device's clock. It is dropped only when
 *   the device's debt passes two horizons: bulk fills the first, so the
 *   fast lane's excess over the limit is at most one horizon's worth.
 * - A bulk packet waits on the device's clock and is dropped when it would
 *   wait longer than the horizon (a router has no socket backpressure, so
 *   the horizon must be short); ECN-capable ones get CE above the CE target
 *   so TCP backs off first. Above the CE target, a flow far above its fair
 *   share loses one packet per interval, so the flows of one device share
 *   its rate instead of the fastest-growing one taking it. */
#ifndef BWA_LIB_EDT_H
#define BWA_LIB_EDT_H

#include <linux/pkt_cls.h>

#include "lib/compiler.h"
#include "lib/flows.h"
#include "lib/maps.h"
#include "lib/parse.h"

#define BWA_NSEC_PER_SEC 1000000000ull

enum bwa_edt_verdict {
	EDT_SEND = 0,
	EDT_DROP = 1,
};

static __always_inline int bwa_edt_pace(struct __sk_buff *skb, const struct bwa_packet *pkt,
					__u64 wire_len, __u32 slot, int dir, __u64 rate,
					const struct bwa_settings *settings, struct bwa_counters *c,
					__u32 port_class)
{
	__u32 index = slot * 2 + (dir & 1);
	__u64 now, t, clock, next, delay_ns, fair, ahead, quantum_ns, horizon, ce_target;
	struct bwa_edt_state *state;
	struct bwa_flow *flow;
	__u32 flows;
	int sparse;

	if (rate == 0)
		return EDT_SEND;
	state = bpf_map_lookup_elem(&bwa_edt, &index);
	if (!state)
		return EDT_SEND;

	now = bpf_ktime_get_ns();
	t = skb->tstamp > now ? skb->tstamp : now;
	delay_ns = wire_len * BWA_NSEC_PER_SEC / rate;
	horizon = settings ? settings->horizon_ns : BWA_NSEC_PER_SEC;
	ce_target = settings ? settings->ce_target_ns : horizon;
	quantum_ns = (__u64)BWA_FLOW_QUANTUM * BWA_NSEC_PER_SEC /
		     rate; /* one frame of the device's time */
	if (horizon < BWA_MIN_HORIZON_FRAMES * quantum_ns)
		horizon = BWA_MIN_HORIZON_FRAMES * quantum_ns;
	if (ce_target < BWA_MIN_CE_TARGET_FRAMES * quantum_ns)
		ce_target = BWA_MIN_CE_TARGET_FRAMES * quantum_ns;

	flow = bwa_flow_for(pkt, slot, dir, now);
	flows = bwa_active_flows(state, flow, now);
	/* The flow's own clock at its fair share (the device's rate over its
	 * active flows): how far ahead of that share it is, in time. */
	ahead = 0;
	quantum_ns *= flows; /* a frame at the flow's fair share */
	if (port_class & BWA_PORT_PRIORITY)
		quantum_ns *= BWA_FLOW_PRIORITY_QUANTA;
	if (flow) {
		fair = flow->fair_ns > now ? flow->fair_ns : now;
		fair += delay_ns * flows;
		ahead = fair - now;
		flow->fair_ns = fair;
	}
	sparse = flow && flow->departure_ns <= now && ahead <= quantum_ns;

	/* The device clock is shared by all CPUs and updated without atomics,
	 * as Cilium's EDT does: two CPUs pacing the same device at the same
	 * instant may both read the old value and one advance is lost. That
	 * costs at most a packet's worth of time now and then, far cheaper
	 * than a lock or a compare-and-swap on every packet. */
	clock = READ_ONCE(state->t_last_ns);
	next = clock + delay_ns;
	if (sparse) {
		if (clock > now &&
		    clock - now > 2 * horizon + BWA_MAX_GSO_BYTES * BWA_NSEC_PER_SEC / rate) {
			if (c)
				c->horizon_drops[dir & 1]++;
			return EDT_DROP;
		}
		WRITE_ONCE(state->t_last_ns, next > now ? next : now);
		flow->departure_ns = now;
		if (c)
			c->sparse_packets[dir & 1]++;
		return EDT_SEND;
	}
	if (next <= t) {
		WRITE_ONCE(state->t_last_ns, t);
		if (flow)
			flow->departure_ns = t;
		return EDT_SEND;
	}
	/* The horizon bounds the wait beyond the packet's own transmission
	 * time: at low rates one full-size packet alone can take longer than
	 * the horizon, and dropping every second packet would starve TCP. */
	if (next - now > horizon + delay_ns) {
		if (c)
			c->horizon_drops[dir & 1]++;
		return EDT_DROP;
	}
	/* Fairness is between flows: a device's only flow is held by the
	 * horizon alone. */
	if (flow && flows > 1 && settings && settings->fair_quanta && next - now > ce_target &&
	    ahead > settings->fair_quanta * quantum_ns &&
	    now - flow->signal_ns >= BWA_FLOW_SIGNAL_NS &&
	    !(pkt->ecn_capable && settings && (settings->flags & BWA_SETTING_ECN))) {
		flow->signal_ns = now;
		if (c)
			c->fair_drops[dir & 1]++;
		return EDT_DROP;
	}
	WRITE_ONCE(state->t_last_ns, next);
	if (flow)
		flow->departure_ns = next;
	/* fq reads a delivery time in CLOCK_MONOTONIC, which is what
	 * bpf_ktime_get_ns() returns, so plain assignment is right on every
	 * kernel; bpf_skb_set_tstamp() is not needed. */
	skb->tstamp = next;
	if (settings && (settings->flags & BWA_SETTING_ECN) && pkt->ecn_capable &&
	    next - now > ce_target) {
		if (bpf_skb_ecn_set_ce(skb) && c)
			c->ce_marks[dir & 1]++;
	}
	return EDT_SEND;
}

#endif /* BWA_LIB_EDT_H */
