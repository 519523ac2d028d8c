// placeholder, replaced by the datapath programs
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "bwalloc_maps.h"
SEC("xdp") int bwa_xdp_ingress(struct xdp_md *ctx) { return XDP_PASS; }
char LICENSE[] SEC("license") = "Dual BSD/GPL";
