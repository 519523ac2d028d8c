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

static __always_inline int bwa_port_exempt(int udp, __u16 port)
{
	__u32 word = bwa_exempt_word(udp, port);
	__u64 *bits = bpf_map_lookup_elem(&bwa_exempt, &word);

	return bits && (*bits & bwa_exempt_bit(port));
}

/* A TCP/UDP packet is exempt when either port is in the exempt set: that
 * covers a device's own DNS/SSH/HTTPS/NTP requests (destination port) and
 * the replies to them (source port) alike. has_ports is only set for TCP
 * and UDP. Array lookups are inlined by the verifier: no helper call. */
static __always_inline int bwa_is_exempt(const struct bwa_packet *pkt)
{
	int udp = pkt->l4_protocol == IPPROTO_UDP;

	if (!pkt->has_ports)
		return 0;
	return bwa_port_exempt(udp, pkt->src_port) || bwa_port_exempt(udp, pkt->dst_port);
}

#endif /* BWA_LIB_POLICY_H */
