/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Policy and exemption lookups. */
#ifndef BWA_LIB_POLICY_H
#define BWA_LIB_POLICY_H

#include "lib/maps.h"
#include "lib/parse.h"

static __always_inline struct bwa_policy *bwa_policy_for(const struct bwa_addr *device)
{
	return bpf_map_lookup_elem(&bwa_policy, device);
}

static __always_inline int bwa_is_blocked(const struct bwa_policy *p)
{
	return p && (p->flags & BWA_POLICY_BLOCKED);
}

/* A TCP/UDP packet is exempt when either port is in the exempt set: that
 * covers a device's own DNS/SSH/HTTPS/NTP requests (destination port) and
 * the replies to them (source port) alike. */
static __always_inline int bwa_is_exempt(const struct bwa_packet *pkt)
{
	struct bwa_port_key key = {};

	if (!pkt->has_ports)
		return 0;
	key.protocol = pkt->l4_protocol;
	key.port = pkt->src_port;
	if (bpf_map_lookup_elem(&bwa_exempt, &key))
		return 1;
	key.port = pkt->dst_port;
	return bpf_map_lookup_elem(&bwa_exempt, &key) != NULL;
}

#endif /* BWA_LIB_POLICY_H */
