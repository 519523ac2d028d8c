/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Policy and port-class lookups. */
#ifndef BWA_LIB_POLICY_H
#define BWA_LIB_POLICY_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lib/compiler.h"
#include "lib/maps.h"
#include "lib/parse.h"

static __always_inline struct bwa_policy *bwa_policy_for(const struct bwa_addr *device)
{
	return bpf_map_lookup_elem(&bwa_policy, device);
}

/* The device's policy through this CPU's copy in its counter entry `c`,
 * refreshed from bwa_policy when the agent's policy generation changed or a
 * new jiffy began (see bwa_policy_cache). Without a counter entry, the map
 * itself. The settings lookup (an array) and bpf_jiffies64() are both
 * inlined by the verifier: the hit path makes no call. */
static __always_inline const struct bwa_policy *bwa_policy_via(struct bwa_counters *c,
							       const struct bwa_addr *device)
{
	struct bwa_settings *settings;
	struct bwa_policy_cache *cache;
	struct bwa_policy *policy;
	__u32 generation;
	__u64 jiffies;

	if (!c)
		return bwa_policy_for(device);
	settings = bwa_get_settings();
	generation = settings ? READ_ONCE(settings->policy_generation) : 0;
	cache = &c->policy_cache;
	jiffies = bpf_jiffies64();
	if (cache->jiffies != jiffies || cache->generation != generation ||
	    !(cache->state & BWA_CACHE_FILLED)) {
		/* The generation was read before the policy: a change that lands
		 * in between is copied under the old generation and read again
		 * at the next packet. */
		policy = bwa_policy_for(device);
		if (policy) {
			cache->policy = *policy;
			cache->state = BWA_CACHE_FILLED | BWA_CACHE_HAS_POLICY;
		} else {
			cache->state = BWA_CACHE_FILLED;
		}
		cache->jiffies = jiffies;
		cache->generation = generation;
	}
	return (cache->state & BWA_CACHE_HAS_POLICY) ? &cache->policy : NULL;
}

static __always_inline int bwa_is_blocked(const struct bwa_policy *p)
{
	return p && (p->flags & BWA_POLICY_BLOCKED);
}

static __always_inline __u32 bwa_port_class_of(int udp, __u16 port)
{
	__u32 word = bwa_port_word(udp, port);
	__u64 *bits = bpf_map_lookup_elem(&bwa_ports, &word);

	return bits ? (*bits >> bwa_port_shift(port)) & 3 : 0;
}

/* A TCP/UDP packet's port class (BWA_PORT_*) is that of either port: that
 * covers a device's own DNS/SSH/HTTPS/NTP requests (destination port) and
 * the replies to them (source port) alike. has_ports is only set for TCP
 * and UDP. Array lookups are inlined by the verifier: no helper call. */
static __always_inline __u32 bwa_port_class(const struct bwa_packet *pkt)
{
	int udp = pkt->l4_protocol == IPPROTO_UDP;

	if (!pkt->has_ports)
		return 0;
	return bwa_port_class_of(udp, pkt->src_port) | bwa_port_class_of(udp, pkt->dst_port);
}

#endif /* BWA_LIB_POLICY_H */
