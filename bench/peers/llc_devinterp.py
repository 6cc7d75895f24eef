"""Peer: the local learning coefficient of a deep linear network (no biases) by devinterp's
SGLD (devinterp.slt.sampler.sample_single_chain with devinterp.optim.SGLD), one thread, data
from a rank-r teacher (x ~ N(0, I), y = U Vᵀ x + N(0, I)), w* from the teacher by L-BFGS (as
`thermolab llc` trains). Prints one JSON line: λ̂, its SE over chains and the sampling seconds.

    python llc_devinterp.py WIDTHS RANK ROWS CHAINS DRAWS STEP GAMMA BATCH SEED
"""
import json
import math
import sys
import time
import warnings

import torch

warnings.filterwarnings("ignore")
torch.set_num_threads(1)
from devinterp.optim.sgld import SGLD  # noqa: E402
from devinterp.slt.sampler import sample_single_chain  # noqa: E402

widths = [int(w) for w in sys.argv[1].split(",")]
rank, rows, chains, draws = (int(v) for v in sys.argv[2:6])
step, gamma = float(sys.argv[6]), float(sys.argv[7])
batch, seed = int(sys.argv[8]), int(sys.argv[9])
torch.manual_seed(seed)
m, out = widths[0], widths[-1]
u, v = torch.randn(out, rank), torch.randn(m, rank)
x = torch.randn(rows, m)
y = x @ (u @ v.T).T + torch.randn(rows, out)
layers = []
for k in range(len(widths) - 1):
    layers.append(torch.nn.Linear(widths[k], widths[k + 1], bias=False))
model = torch.nn.Sequential(*layers)
with torch.no_grad():
    for k, layer in enumerate(layers):
        w = torch.zeros_like(layer.weight)
        if len(layers) == 1:
            w.copy_(u @ v.T)
        elif k == 0:
            w[:rank] = v.T
        elif k == len(layers) - 1:
            w[:, :rank] = u
        else:
            w[:rank, :rank] = torch.eye(rank)
        layer.weight.copy_(w)


def loss_of(mdl, xb, yb):
    return 0.5 * ((mdl(xb) - yb) ** 2).sum(dim=1).mean()


opt = torch.optim.LBFGS(model.parameters(), max_iter=500, tolerance_grad=1e-9,
                        tolerance_change=1e-15, line_search_fn="strong_wolfe")


def closure():
    opt.zero_grad()
    loss = loss_of(model, x, y)
    loss.backward()
    return loss


opt.step(closure)
with torch.no_grad():
    init_loss = loss_of(model, x, y).item()


class Rows(torch.utils.data.Dataset):
    """x and y side by side under devinterp's one key."""

    def __len__(self):
        return rows

    def __getitem__(self, i):
        return {"input_ids": torch.cat([x[i], y[i]])}


def evaluate(mdl, data):
    b = data["input_ids"]
    return loss_of(mdl, b[:, :m], b[:, m:]), {}


n_beta = rows / math.log(rows)
per_chain, seconds = [], 0.0
for c in range(chains):
    losses = []
    t = time.perf_counter()
    sample_single_chain(
        model, Rows(), evaluate, {name: None for name, _ in model.named_parameters()},
        num_draws=draws, num_burnin_steps=0, sampling_method=SGLD,
        sampling_method_kwargs={"lr": step, "localization": gamma, "nbeta": n_beta},
        chain=c, seed=seed + c, dataloader_seed=seed + c, batch_size=batch,
        callbacks=[lambda loss, **_: losses.append(loss.item())],
    )
    seconds += time.perf_counter() - t
    per_chain.append(n_beta * (sum(losses) / len(losses) - init_loss))
lam = sum(per_chain) / chains
sd = math.sqrt(sum((p - lam) ** 2 for p in per_chain) / (chains - 1))
print(json.dumps({"lambda": lam, "se": sd / math.sqrt(chains), "seconds": seconds,
                  "draws": len(losses), "per_chain": per_chain}))
