"""Matrix-product rates at 1 and 2 OpenBLAS threads, for the README's "Threads" figures.

Times, with Debian's python3-torch (the trainer's LibTorch and BLAS), the two kinds of product a
transformer step makes: a projection-sized torch.mm (tokens x d) @ (d x 4d), and the attention's
torch.bmm over (batch x heads) small matrices (T x d_head) @ (d_head x T). Prints GFLOP/s, medians
of --repeats calls, for each OpenBLAS thread count. Torch's own threads stay at --threads.

    /usr/bin/python3 tools/bench/blas_threads.py [--threads 2] [--repeats 20]
"""

import argparse
import ctypes
import ctypes.util
import statistics
import sys
import time

import torch


def openblas():
    """The OpenBLAS that torch loaded (Debian: libopenblas.so.0 behind libblas.so.3), or None."""
    for name in ("libopenblas.so.0", ctypes.util.find_library("openblas")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_set_num_threads, lib.openblas_get_num_threads  # noqa: B018 (probe)
            return lib
        except (OSError, AttributeError):
            continue
    return None


def median_seconds(f, repeats):
    f()  # warm-up: BLAS threads and buffers
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch's intra-op threads")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=6400, help="rows of the projection (batch x T)")
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--batch-heads", type=int, default=256, help="matrices in the bmm (batch x heads)")
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--head-dim", type=int, default=32)
    args = parser.parse_args(argv)
    lib = openblas()
    if lib is None:
        print("blas_threads.py: OpenBLAS is not the BLAS behind this torch; nothing to compare", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    d = args.d_model
    a, b = torch.randn(args.tokens, d), torch.randn(d, 4 * d)
    x = torch.randn(args.batch_heads, args.length, args.head_dim)
    y = torch.randn(args.batch_heads, args.head_dim, args.length)
    mm_flop = 2.0 * args.tokens * d * 4 * d
    bmm_flop = 2.0 * args.batch_heads * args.length * args.length * args.head_dim
    print(f"torch {torch.__version__}, {args.threads} torch threads; medians of {args.repeats}")
    print(f"{'OpenBLAS threads':>16} {'mm GFLOP/s':>11} {'bmm GFLOP/s':>12}")
    for blas_threads in (1, 2):
        lib.openblas_set_num_threads(blas_threads)
        mm = mm_flop / median_seconds(lambda: torch.mm(a, b), args.repeats) / 1e9
        bmm = bmm_flop / median_seconds(lambda: torch.bmm(x, y), args.repeats) / 1e9
        print(f"{lib.openblas_get_num_threads():>16} {mm:>11.1f} {bmm:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
