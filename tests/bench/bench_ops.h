// One function per op family; each allocates from b->arena and prints its rows.
#pragma once
#include "dg_bench.h"
#include "dg_tensor.h"

void bench_elementwise(dg_bench *b);
void bench_attention(dg_bench *b);
void bench_norm(dg_bench *b);
void bench_matmul(dg_bench *b);
void bench_conv(dg_bench *b);
