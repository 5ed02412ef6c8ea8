"""The binary classifier example in PyTorch, for comparison: same network, loss, optimizer,
batch size, epochs, 80/20 stratified split and standardisation fitted on the training part.

    python3 examples/pytorch/binary_classifier.py examples/data/breast_cancer.csv malignant --seeds 10

prints the final validation accuracy of each seed and their mean.
"""
import argparse, csv
import numpy as np
import torch
from torch import nn


def load(path, target):
    with open(path) as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], np.array(rows[1:], dtype=np.float32)
    t = header.index(target)
    return np.delete(rows, t, axis=1), rows[:, t]


def split(y, fraction, rng):
    train, val = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        n_val = int(round(len(idx) * fraction))
        val += list(idx[:n_val]); train += list(idx[n_val:])
    return np.array(train), np.array(val)


def run(x, y, seed, epochs, batch, lr, fraction):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    tr, va = split(y, fraction, rng)
    mean, std = x[tr].mean(0), x[tr].std(0)
    std[std == 0] = 1
    xs = torch.tensor((x - mean) / std)
    ys = torch.tensor(y).unsqueeze(1)
    model = nn.Sequential(nn.Linear(x.shape[1], 16), nn.ReLU(), nn.Dropout(0.1),
                          nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(epochs):
        model.train()
        perm = tr[torch.randperm(len(tr)).numpy()]
        for i in range(0, len(perm), batch):
            b = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(xs[b]), ys[b])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        pred = (model(xs[va]) > 0).float()
    return (pred == ys[va]).float().mean().item()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("csv"); p.add_argument("target")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--val-split", type=float, default=0.2)
    a = p.parse_args()
    torch.set_num_threads(1)
    x, y = load(a.csv, a.target)
    accs = [run(x, y, s, a.epochs, a.batch_size, a.lr, a.val_split) for s in range(a.seeds)]
    for s, acc in enumerate(accs):
        print(f"seed={s} val_accuracy={acc:.6f}")
    print(f"mean_val_accuracy={np.mean(accs):.6f}")
