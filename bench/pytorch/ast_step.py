#!/usr/bin/python3
"""Training-step time of a plain PyTorch AST: the reference side of issue 6's "training step vs PyTorch" table.

The model has the structure of YuanGongND/ast `ast_models.py` (timm 0.4.5 DeiT distilled ViT, no pretraining):
Conv2d(1, D, patch, stride) over [B, 1, F, T], cls + dist tokens, learned pos_embed, pre-norm blocks
(LayerNorm eps 1e-6, qkv with bias, softmax attention, MLP ratio 4 with GELU), final norm, (x[:,0] + x[:,1]) / 2,
mlp_head = LayerNorm (eps 1e-5, torch default, as the reference) -> Linear. Written out here (no timm) so it runs
on Debian's python3-torch alone. Parameter names follow the reference's state-dict keys (v.blocks.N.attn.qkv ...).

One step = zero_grad, forward, loss (BCE with logits on one-hot targets, or CE), backward, Adam step
(betas 0.95/0.999, weight decay 5e-7, the reference's optimiser). Inputs are made once before timing, so only the
model and optimiser are measured. After --warmup steps, --steps steps are timed one by one; the script prints one
JSON object: the configuration, the median/mean/min step time (ms), the forward / backward / optimiser split, and
what it ran on (torch version, threads, BLAS from torch.__config__.show() and threadpoolctl if present, cores).

Run it with the BLAS environment cleared so both sides of the comparison use their library defaults:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch/ast_step.py --threads 2
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, dim, patch_f, patch_t, fstride, tstride):
        super().__init__()
        self.proj = nn.Conv2d(1, dim, kernel_size=(patch_f, patch_t), stride=(fstride, tstride))

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class DistilledViT(nn.Module):
    """The `v` submodule: what timm's DeiT distilled model contributes to ASTModel."""

    def __init__(self, dim, depth, heads, num_patches, patch_f, patch_t, fstride, tstride, mlp_ratio=4.0):
        super().__init__()
        self.patch_embed = PatchEmbed(dim, patch_f, patch_t, fstride, tstride)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 2, dim))
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)


class AstModel(nn.Module):
    def __init__(self, dim, depth, heads, classes, mel, frames, patch_f, patch_t, fstride, tstride):
        super().__init__()
        self.f_dim = (mel - patch_f) // fstride + 1
        self.t_dim = (frames - patch_t) // tstride + 1
        if self.f_dim < 1 or self.t_dim < 1:
            raise ValueError(f"patch {patch_f}x{patch_t} does not fit a {mel} mel x {frames} frame input")
        self.v = DistilledViT(dim, depth, heads, self.f_dim * self.t_dim, patch_f, patch_t, fstride, tstride)
        self.mlp_head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, classes))
        for p in (self.v.cls_token, self.v.dist_token, self.v.pos_embed):
            nn.init.trunc_normal_(p, std=0.02)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m):  # timm's ViT init
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x):  # x: [B, T, F]
        x = x.unsqueeze(1).transpose(2, 3)  # [B, 1, F, T]: frequency is height, time is width
        b = x.shape[0]
        x = self.v.patch_embed(x)
        x = torch.cat((self.v.cls_token.expand(b, -1, -1), self.v.dist_token.expand(b, -1, -1), x), dim=1)
        x = x + self.v.pos_embed
        for block in self.v.blocks:
            x = block(x)
        x = self.v.norm(x)
        return self.mlp_head((x[:, 0] + x[:, 1]) / 2)


def forward_flops_per_sample(dim, depth, classes, tokens, patch_f, patch_t, patches, mlp_ratio=4):
    """Multiply-adds x 2 of the matrix products (what FLOP counters usually report); norms and softmax left out."""
    patch = 2 * patches * patch_f * patch_t * dim
    per_layer = 2 * tokens * dim * (3 * dim + dim + 2 * mlp_ratio * dim) + 2 * 2 * tokens * tokens * dim
    return patch + depth * per_layer + 2 * dim * classes


def blas_report(threads):
    """BLAS/OpenMP pools as threadpoolctl sees them (limited to `threads`), or None when it is not installed."""
    try:
        import threadpoolctl
    except ImportError:
        return None, None
    limiter = threadpoolctl.threadpool_limits(limits=threads)
    return limiter, [{k: v for k, v in info.items() if k in ("user_api", "internal_api", "filepath", "version",
                                                               "threading_layer", "architecture", "num_threads")}
                     for info in threadpoolctl.threadpool_info()]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dim", type=int, default=192)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--heads", type=int, default=3)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--mel", type=int, default=128)
    p.add_argument("--frames", type=int, default=256)
    p.add_argument("--patch-f", type=int, default=16)
    p.add_argument("--patch-t", type=int, default=16)
    p.add_argument("--fstride", type=int, default=16)
    p.add_argument("--tstride", type=int, default=16)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op threads (torch and BLAS)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--lr", type=float, default=2.5e-4)
    p.add_argument("--loss", choices=("bce", "ce"), default="bce")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="also write the JSON result to this file")
    a = p.parse_args()
    if a.dim % a.heads:
        p.error(f"--dim {a.dim} is not divisible by --heads {a.heads}")
    if a.steps < 1 or a.warmup < 0 or a.threads < 1 or a.batch < 1:
        p.error("--steps, --threads and --batch must be >= 1 and --warmup >= 0")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            print(f"ast_step: warning: {var}={os.environ[var]} is set; run under `env -u {var}` for a fair "
                  "comparison", file=sys.stderr)

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    _limiter, pools = blas_report(a.threads)

    model = AstModel(a.dim, a.depth, a.heads, a.classes, a.mel, a.frames, a.patch_f, a.patch_t, a.fstride, a.tstride)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.95, 0.999), weight_decay=5e-7)
    loss_fn = nn.BCEWithLogitsLoss() if a.loss == "bce" else nn.CrossEntropyLoss()
    x = torch.randn(a.batch, a.frames, a.mel) * 0.5
    classes = torch.randint(0, a.classes, (a.batch,))
    y = nn.functional.one_hot(classes, a.classes).float() if a.loss == "bce" else classes

    def step():
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        return (t3 - t0) * 1e3, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, loss.item()

    for _ in range(a.warmup):
        step()
    timed = [step() for _ in range(a.steps)]
    total, fwd, bwd, opt = ([t[i] for t in timed] for i in range(4))

    patches = model.f_dim * model.t_dim
    result = {
        "bench": "pytorch_ast_step",
        "config": {k: getattr(a, k) for k in ("dim", "depth", "heads", "classes", "mel", "frames", "patch_f",
                                              "patch_t", "fstride", "tstride", "batch", "threads", "warmup",
                                              "steps", "loss", "seed")},
        "patches": patches,
        "parameters": sum(p.numel() for p in model.parameters()),
        "forward_flops_per_sample": forward_flops_per_sample(a.dim, a.depth, a.classes, patches + 2, a.patch_f,
                                                             a.patch_t, patches),
        "step_ms": {"median": statistics.median(total), "mean": statistics.fmean(total), "min": min(total),
                    "max": max(total), "all": [round(t, 3) for t in total]},
        "forward_ms_median": statistics.median(fwd),
        "backward_ms_median": statistics.median(bwd),
        "optimizer_ms_median": statistics.median(opt),
        "samples_per_s": a.batch * 1e3 / statistics.median(total),
        "final_loss": timed[-1][4],
        "runtime": {
            "torch": torch.__version__,
            "python": sys.version.split()[0],
            "torch_threads": torch.get_num_threads(),
            "torch_interop_threads": torch.get_num_interop_threads(),
            "threadpools": pools,
            "torch_config": torch.__config__.show(),
            "blas_env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_", "GOTO"))},
            "cores": os.cpu_count(),
            "cpu": cpu_model(),
            "load_avg_at_end": os.getloadavg(),
        },
    }
    text = json.dumps(result)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
