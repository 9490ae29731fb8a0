/*===- omp.c - the OpenMP wait policy of a call (CPU libraries) -----------===*
 *
 * A call runs tens of parallel regions (one per matmul, attention, large
 * elementwise loop) separated by short serial code. Idle OpenMP workers that
 * sleep at once (OMP_WAIT_POLICY=PASSIVE, KMP_BLOCKTIME=0) need a futex
 * wake-up at every region: ~50 us each, a fifth of a decode step. Workers
 * that spin for libomp's default 200 ms steal the cores from whatever the
 * process runs next. During a call gatec's workers spin for at most
 * GATEC_BLOCKTIME_MS after each region, so they stay awake from one region to
 * the next and sleep soon after the call; the caller's own setting is put
 * back on return. An explicit KMP_BLOCKTIME or OMP_WAIT_POLICY=active in the
 * environment, or a caller whose workers spin for over a minute, is obeyed.
 * Separate from runtime.c: only CPU libraries link libomp.
 *===----------------------------------------------------------------------===*/
#include "runtime_internal.h"

#include <stdlib.h>
#include <strings.h>

#define GATEC_BLOCKTIME_MS 1

extern int kmp_get_blocktime(void);
extern void kmp_set_blocktime(int msec);

/* -2: the environment not read yet; -1: the user's wait policy rules. */
static int gatec_blocktime = -2;

int gatec_rt_omp_enter(void) {
  int ms = __atomic_load_n(&gatec_blocktime, __ATOMIC_RELAXED);
  if (ms == -2) {
    const char *policy = getenv("OMP_WAIT_POLICY");
    int user = getenv("KMP_BLOCKTIME") || (policy && !strcasecmp(policy, "active"));
    ms = user ? -1 : GATEC_BLOCKTIME_MS;
    __atomic_store_n(&gatec_blocktime, ms, __ATOMIC_RELAXED);
  }
  if (ms < 0)
    return -1;
  int saved = kmp_get_blocktime();
  if (saved > 60 * 1000)
    return -1;
  if (saved != ms)
    kmp_set_blocktime(ms);
  return saved;
}

void gatec_rt_omp_exit(int saved) {
  if (saved >= 0 && saved != GATEC_BLOCKTIME_MS)
    kmp_set_blocktime(saved);
}
