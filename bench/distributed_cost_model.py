"""The on-paper cost of data-parallel steps (the README's table): ring all-reduce time
2(N-1)/N x model bytes / bandwidth + 2(N-1) x per-message latency, against the compute time of
one step at a given global batch, for the chapter's model and the chapter-5 convnet.

    python bench/distributed_cost_model.py [--global-batch 256] [--gflops 100]

Assumptions (change them with the options): float32 gradients; a node computes at --gflops
GFLOP/s on these models (about one core's achieved GEMM rate; a whole many-core node computes
faster, so it stops scaling sooner); latency per ring message 25 us on 10 Gb/s TCP and 3 us on
100 Gb/s RDMA; no overlap of the all-reduce with the backward pass (tensorlet's case today), so
the scaling efficiency is compute / (compute + all-reduce).
"""

import argparse

MODELS = {
    # params, training GFLOP per sample (forward + backward; backward ~2x forward)
    "chapter model (Dense 512, Dense 10)": (407_050, 2 * (784 * 512 + 512 * 10) * 3 / 1e9),
    # forward: conv 26x26x32x9, 11x11x64x(9*32), 3x3x64x(9*64), dense 576x64, 64x10 (x2 flops)
    "chapter-5 convnet": (93_322, 2 * (26 * 26 * 32 * 9 + 11 * 11 * 64 * 288 + 3 * 3 * 64 * 576
                                       + 576 * 64 + 64 * 10) * 3 / 1e9),
}
LINKS = {"10 Gb/s": (10e9 / 8, 25e-6), "100 Gb/s": (100e9 / 8, 3e-6)}


def allreduce_seconds(nodes: int, model_bytes: float, bandwidth: float, latency: float) -> float:
    return 2 * (nodes - 1) / nodes * model_bytes / bandwidth + 2 * (nodes - 1) * latency


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--global-batch", type=int, default=256)
    p.add_argument("--gflops", type=float, default=100.0)
    args = p.parse_args()
    for name, (params, gflop_per_sample) in MODELS.items():
        model_bytes = 4 * params
        print(f"\n{name}: {params:,} params = {model_bytes / 1e6:.2f} MB; "
              f"{gflop_per_sample * 1e3:.2f} MFLOP per training sample\n")
        print("| nodes | rows/node | compute | all-reduce 10 Gb/s | eff. | all-reduce 100 Gb/s | eff. |")
        print("|---|---|---|---|---|---|---|")
        for nodes in (8, 16, 32, 64):
            rows = args.global_batch / nodes
            compute = rows * gflop_per_sample / args.gflops
            cells = [f"{nodes}", f"{rows:g}", f"{compute * 1e3:.3f} ms"]
            for bandwidth, latency in LINKS.values():
                t = allreduce_seconds(nodes, model_bytes, bandwidth, latency)
                cells += [f"{t * 1e3:.3f} ms", f"{compute / (compute + t):.0%}"]
            print("| " + " | ".join(cells) + " |")
        for link, (bandwidth, latency) in LINKS.items():
            # rows per node at which the step is 85% compute, at 8 and 64 nodes
            need = [0.85 / 0.15 * allreduce_seconds(n, model_bytes, bandwidth, latency) * args.gflops / gflop_per_sample
                    for n in (8, 64)]
            print(f"\n{link}: 85% efficiency needs >= {need[0]:.0f} rows per node at 8 nodes, "
                  f">= {need[1]:.0f} at 64 (global batch {8 * need[0]:.0f} / {64 * need[1]:.0f})", end="")
        print()


if __name__ == "__main__":
    main()
