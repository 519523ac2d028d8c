/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Packet parsing shared by every program: Ethernet, up to two VLAN tags,
 * IPv4 (with options), IPv6 (bounded walk over extension headers), TCP/UDP
 * ports. Every header access is bounds-checked first; anything that does not
 * parse yields PARSE_BAD so the caller fails open. */
#ifndef BWA_LIB_PARSE_H
#define BWA_LIB_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bwalloc_maps.h"

#define BWA_MAX_VLAN_TAGS 2
#define BWA_MAX_IPV6_EXT 6

enum bwa_parse_result {
	PARSE_OK = 0,
	PARSE_NOT_IP = 1, /* ARP and friends: not a device's traffic to count */
	PARSE_BAD = 2,	  /* truncated or malformed: pass untouched */
};

struct bwa_packet {
	struct bwa_addr src;
	struct bwa_addr dst;
	__u8 l4_protocol;
	__u8 has_ports;
	__u16 src_port; /* host byte order */
	__u16 dst_port;
	__u8 is_ipv6;
	__u8 ecn_capable; /* ECT(0) or ECT(1): CE marking works */
	__u16 header_len; /* bytes from the frame start to the end of the L4 header */
};

struct bwa_vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

/* IPv4-mapped IPv6: ::ffff:a.b.c.d, the one key format for both families. */
static __always_inline void bwa_addr_from_v4(struct bwa_addr *a, __be32 v4)
{
	__builtin_memset(a, 0, sizeof(*a));
	a->bytes[10] = 0xff;
	a->bytes[11] = 0xff;
	__builtin_memcpy(&a->bytes[12], &v4, 4);
}

static __always_inline int bwa_parse_ports(void *data, void *l4, void *data_end,
					   struct bwa_packet *pkt)
{
	/* TCP and UDP both start with source and destination port. */
	__be16 *ports = l4;
	__u8 *tcp_offset = l4 + 12; /* TCP data offset, in 32-bit words, upper nibble */

	pkt->header_len = l4 - data;
	if (pkt->l4_protocol != IPPROTO_TCP && pkt->l4_protocol != IPPROTO_UDP)
		return PARSE_OK;
	if ((void *)(ports + 2) > data_end)
		return PARSE_BAD;
	pkt->src_port = bpf_ntohs(ports[0]);
	pkt->dst_port = bpf_ntohs(ports[1]);
	pkt->has_ports = 1;
	if (pkt->l4_protocol == IPPROTO_UDP) {
		pkt->header_len += 8;
	} else if ((void *)(tcp_offset + 1) <= data_end) {
		pkt->header_len += (*tcp_offset >> 4) * 4;
	}
	return PARSE_OK;
}

static __always_inline int bwa_parse_ipv4(void *data, void *l3, void *data_end,
					  struct bwa_packet *pkt)
{
	struct iphdr *ip = l3;
	__u32 ihl_bytes;

	if ((void *)(ip + 1) > data_end)
		return PARSE_BAD;
	if (ip->version != 4 || ip->ihl < 5)
		return PARSE_BAD;
	ihl_bytes = ip->ihl * 4;
	if (l3 + ihl_bytes > data_end)
		return PARSE_BAD;
	bwa_addr_from_v4(&pkt->src, ip->saddr);
	bwa_addr_from_v4(&pkt->dst, ip->daddr);
	pkt->l4_protocol = ip->protocol;
	pkt->ecn_capable = (ip->tos & 0x3) != 0;
	/* Only the first fragment carries the ports. */
	if (ip->frag_off & bpf_htons(0x1fff)) {
		pkt->header_len = l3 + ihl_bytes - data;
		return PARSE_OK;
	}
	return bwa_parse_ports(data, l3 + ihl_bytes, data_end, pkt);
}

static __always_inline int bwa_parse_ipv6(void *data, void *l3, void *data_end,
					  struct bwa_packet *pkt)
{
	struct ipv6hdr *ip6 = l3;
	void *cursor;
	__u8 next;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return PARSE_BAD;
	if (ip6->version != 6)
		return PARSE_BAD;
	__builtin_memcpy(pkt->src.bytes, &ip6->saddr, 16);
	__builtin_memcpy(pkt->dst.bytes, &ip6->daddr, 16);
	pkt->is_ipv6 = 1;
	pkt->ecn_capable = ((bpf_ntohl(*(__be32 *)ip6) >> 20) & 0x3) != 0;
	next = ip6->nexthdr;
	cursor = ip6 + 1;

#pragma unroll
	for (i = 0; i < BWA_MAX_IPV6_EXT; i++) {
		struct {
			__u8 next;
			__u8 len;
			__be16 frag_off; /* fragment header: offset + M flag */
		} *ext = cursor;

		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_FRAGMENT)
			break;
		if ((void *)(ext + 1) > data_end)
			return PARSE_BAD;
		if (next == IPPROTO_FRAGMENT) {
			/* A non-first fragment has no L4 header to read. */
			if (ext->frag_off & bpf_htons(0xfff8)) {
				pkt->l4_protocol = ext->next;
				pkt->header_len = cursor + 8 - data;
				return PARSE_OK;
			}
			next = ext->next;
			cursor += 8;
		} else {
			next = ext->next;
			cursor += (ext->len + 1) * 8;
		}
	}
	pkt->l4_protocol = next;
	if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS ||
	    next == IPPROTO_FRAGMENT)
		return PARSE_BAD; /* more extension headers than we walk: fail open */
	return bwa_parse_ports(data, cursor, data_end, pkt);
}

/* Parses an Ethernet frame from data to data_end. */
static __always_inline int bwa_parse_packet(void *data, void *data_end, struct bwa_packet *pkt)
{
	struct ethhdr *eth = data;
	void *cursor;
	__be16 proto;
	int i;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	if ((void *)(eth + 1) > data_end)
		return PARSE_BAD;
	proto = eth->h_proto;
	cursor = eth + 1;

#pragma unroll
	for (i = 0; i < BWA_MAX_VLAN_TAGS; i++) {
		struct bwa_vlan_hdr *vlan = cursor;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vlan + 1) > data_end)
			return PARSE_BAD;
		proto = vlan->encapsulated_proto;
		cursor = vlan + 1;
	}

	if (proto == bpf_htons(ETH_P_IP))
		return bwa_parse_ipv4(data, cursor, data_end, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return bwa_parse_ipv6(data, cursor, data_end, pkt);
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD))
		return PARSE_BAD; /* a third tag: more than we parse */
	return PARSE_NOT_IP;
}

/* The bytes a tc packet puts on the wire. A GSO packet is one skb for many
 * segments, and skb->len counts its headers once; every segment carries
 * them, so add them back (as the kernel's qdisc_pkt_len_init does). */
static __always_inline __u64 bwa_wire_len(const struct __sk_buff *skb, const struct bwa_packet *pkt)
{
	__u64 len = skb->len;

	if (skb->gso_segs > 1)
		len += (__u64)(skb->gso_segs - 1) * pkt->header_len;
	return len;
}

#endif /* BWA_LIB_PARSE_H */
