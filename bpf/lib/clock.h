/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A per-CPU coarse clock for last_seen. The agent keeps last_seen to within
 * half a second, yet bpf_ktime_get_ns() is a helper call that costs as much
 * as a hash lookup on every packet (more on CPUs whose return thunks are
 * slow). bpf_jiffies64() is inlined by the verifier, so the monotonic clock
 * is read once per jiffy per CPU and reused until the jiffy changes. Pacing
 * needs the exact time and still calls bpf_ktime_get_ns() itself. */
#ifndef BWA_LIB_CLOCK_H
#define BWA_LIB_CLOCK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* More CPUs than this read the clock on every packet (correct, slower). */
#define BWA_CLOCK_CPUS 512

/* Program-internal state in .bss, not a map the agent knows: it is rebuilt
 * from the clock after every load, so it is neither pinned nor adopted. One
 * 64-byte entry per CPU (the .bss value starts page-aligned), so each CPU
 * writes only its own cache line. Anonymous, so the generated skeleton can
 * describe it without this header. */
static struct {
	__u64 jiffies;
	__u64 mono_ns;
	__u64 pad[6];
} bwa_clock_cache[BWA_CLOCK_CPUS] SEC(".bss");

/* CLOCK_MONOTONIC ns, at most one jiffy old (what the agent compares
 * last_seen_ns against). */
static __always_inline __u64 bwa_coarse_now_ns(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 jiffies = bpf_jiffies64();
	typeof(&bwa_clock_cache[0]) cache;

	if (cpu >= BWA_CLOCK_CPUS)
		return bpf_ktime_get_ns();
	cache = &bwa_clock_cache[cpu];
	/* No atomics: only this CPU writes its entry. Two programs interleaved
	 * on one CPU (a test run interrupted by a softirq) could pair a new
	 * jiffy with an old time: last_seen one jiffy early at worst. */
	if (cache->jiffies != jiffies || cache->mono_ns == 0) {
		cache->mono_ns = bpf_ktime_get_ns();
		cache->jiffies = jiffies;
	}
	return cache->mono_ns;
}

#endif /* BWA_LIB_CLOCK_H */
