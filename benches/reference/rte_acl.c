// A side-by-side reference for nsgsim's compiled matcher: DPDK's rte_acl (the packet classifier
// of the Data Plane Development Kit, a trie over the key's bytes walked for several flows at once
// with SSE/AVX2) on a ClassBench filter set and header trace. Not part of the build: it needs
// DPDK's headers and libraries, which nsgsim does not.
//
// Build (Debian 12: apt-get install libdpdk-dev pkg-config):
//   gcc -O2 -o /tmp/rte_acl benches/reference/rte_acl.c $(pkg-config --cflags --libs libdpdk)
// Run (the expected first match is the trace's last column, 0-based; a sixth rule field, when
// present, is the rule's index, as `examples/nsg_as_classbench.rs` writes it):
//   /tmp/rte_acl tests/data/classbench/acl1_10K tests/data/classbench/acl1_10K_trace 64
// It prints, for the scalar, SSE and AVX2 classifiers: build time, the median and the best of 50
// rounds over the trace in batches of BATCH flows (ns per lookup, millions per second, one core),
// and how many results agree with the trace. DPDK runs without huge pages here (--no-huge), as on a shared VM,
// with 12 GiB of EAL memory (-m): building the 1,000-rule NSG set's 436,852 filters peaks at about 4 GiB.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <arpa/inet.h>
#include <rte_eal.h>
#include <rte_acl.h>

struct ipv4_5tuple { uint8_t proto; uint32_t ip_src; uint32_t ip_dst; uint16_t port_src; uint16_t port_dst; };
RTE_ACL_RULE_DEF(acl4_rule, 5);
static struct rte_acl_field_def defs[5] = {
  {.type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 1, .field_index = 0, .input_index = 0, .offset = offsetof(struct ipv4_5tuple, proto)},
  {.type = RTE_ACL_FIELD_TYPE_MASK, .size = 4, .field_index = 1, .input_index = 1, .offset = offsetof(struct ipv4_5tuple, ip_src)},
  {.type = RTE_ACL_FIELD_TYPE_MASK, .size = 4, .field_index = 2, .input_index = 2, .offset = offsetof(struct ipv4_5tuple, ip_dst)},
  {.type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = 3, .input_index = 3, .offset = offsetof(struct ipv4_5tuple, port_src)},
  {.type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = 4, .input_index = 3, .offset = offsetof(struct ipv4_5tuple, port_dst)},
};
static int cmp_double(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
  char *eal[] = {"acl", "--no-huge", "-m", "12288", "--no-pci", "--no-shconf", "--log-level=1", "-l", "0"};
  if (rte_eal_init(9, eal) < 0) { fprintf(stderr, "eal init failed\n"); return 2; }
  if (argc < 3) { fprintf(stderr, "usage: acl RULES TRACE [BATCH]\n"); return 2; }
  int batch = argc > 3 ? atoi(argv[3]) : 64;
  FILE *f = fopen(argv[1], "r"); if (!f) return 2;
  int cap = 200000, n = 0; struct acl4_rule *rules = calloc(cap, sizeof *rules);
  char line[512];
  while (fgets(line, sizeof line, f)) {
    unsigned a,b,c,d,sl,e,g,h,i,dl,sp0,sp1,dp0,dp1,pv,pm,id;
    int got = sscanf(line, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x %u", &a,&b,&c,&d,&sl,&e,&g,&h,&i,&dl,&sp0,&sp1,&dp0,&dp1,&pv,&pm,&id);
    if (got < 16) { fprintf(stderr, "bad rule line %d\n", n + 1); return 2; }
    if (got < 17) id = n;
    if (n == cap) { cap *= 2; rules = realloc(rules, cap * sizeof *rules); memset(rules + n, 0, (cap - n) * sizeof *rules); }
    struct acl4_rule *r = &rules[n];
    r->data.userdata = id + 1; r->data.category_mask = 1; r->data.priority = RTE_ACL_MAX_PRIORITY - id;
    r->field[0].value.u8 = pv; r->field[0].mask_range.u8 = pm;
    r->field[1].value.u32 = a<<24|b<<16|c<<8|d; r->field[1].mask_range.u32 = sl;
    r->field[2].value.u32 = e<<24|g<<16|h<<8|i; r->field[2].mask_range.u32 = dl;
    r->field[3].value.u16 = sp0; r->field[3].mask_range.u16 = sp1;
    r->field[4].value.u16 = dp0; r->field[4].mask_range.u16 = dp1;
    n++;
  }
  fclose(f);
  struct rte_acl_param prm = {.name = "cb", .socket_id = SOCKET_ID_ANY, .rule_size = RTE_ACL_RULE_SZ(5), .max_rule_num = n};
  struct rte_acl_ctx *ctx = rte_acl_create(&prm);
  if (!ctx || rte_acl_add_rules(ctx, (struct rte_acl_rule *)rules, n) < 0) { fprintf(stderr, "add rules failed\n"); return 2; }
  struct rte_acl_config cfg = {.num_categories = 1, .num_fields = 5};
  memcpy(cfg.defs, defs, sizeof defs);
  double t0 = now();
  if (rte_acl_build(ctx, &cfg) != 0) { fprintf(stderr, "build failed\n"); return 2; }
  double build = now() - t0;
  f = fopen(argv[2], "r"); if (!f) return 2;
  int tcap = 1000000, m = 0; struct ipv4_5tuple *keys = calloc(tcap, sizeof *keys); uint32_t *expected = calloc(tcap, 4);
  while (fgets(line, sizeof line, f) && m < tcap) {
    unsigned long v[16]; int k = 0; char *p = line, *q;
    while (k < 16) { unsigned long x = strtoul(p, &q, 10); if (q == p) break; v[k++] = x; p = q; }
    if (k < 6) continue;
    unsigned long s = v[0], d = v[1]; unsigned sp = v[2], dp = v[3], pr = v[4], ex = v[k - 1];
    keys[m].proto = pr; keys[m].ip_src = htonl(s); keys[m].ip_dst = htonl(d); keys[m].port_src = htons(sp); keys[m].port_dst = htons(dp);
    expected[m] = ex; m++;
  }
  fclose(f);
  const uint8_t **ptrs = malloc(m * sizeof *ptrs); uint32_t *res = calloc(m, 4);
  for (int k = 0; k < m; k++) ptrs[k] = (const uint8_t *)&keys[k];
  static const char *alg_names[] = {"default", "scalar", "sse", "avx2", "neon", "altivec", "avx512x16", "avx512x32"};
  int algs[] = {RTE_ACL_CLASSIFY_SCALAR, RTE_ACL_CLASSIFY_SSE, RTE_ACL_CLASSIFY_AVX2};
  for (int ai = 0; ai < 3; ai++) {
    if (rte_acl_set_ctx_classify(ctx, algs[ai]) != 0) { printf("%s: not supported\n", alg_names[algs[ai]]); continue; }
    double rounds[50];
    for (int round = 0; round < 50; round++) {
      double t = now();
      for (int k = 0; k < m; k += batch) {
        int cnt = m - k < batch ? m - k : batch;
        rte_acl_classify(ctx, ptrs + k, res + k, cnt, 1);
      }
      rounds[round] = now() - t;
    }
    qsort(rounds, 50, sizeof rounds[0], cmp_double);
    double best = rounds[0], median = (rounds[24] + rounds[25]) / 2;
    long agree0 = 0;
    for (int k = 0; k < m; k++) agree0 += (res[k] == expected[k] + 1);
    printf("%s: rules %d flows %d build %.1f ms; 50 rounds: median %.1f ns/lookup (%.2f M/s), best %.1f ns (%.2f M/s); batch %d; agree with the trace %ld of %d\n",
      alg_names[algs[ai]], n, m, build * 1e3, median / m * 1e9, m / median / 1e6, best / m * 1e9, m / best / 1e6, batch, agree0, m);
  }
  return 0;
}
