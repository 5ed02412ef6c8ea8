"""The benchmark protocol of DESIGN.md in PyTorch eager, for side-by-side ratios with
`cargo bench --bench protocol`. Same networks, losses, optimizers, batches, data sizes, one
warm-up epoch and the median of five timed ones.

    python3 benches/pytorch_protocol.py --threads 1 [--json out.json]
"""
import argparse, json, statistics, time
import torch
from torch import nn


def median_seconds(fn, timed=5):
    fn()
    times = []
    for _ in range(timed):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return statistics.median(times)


def mlp(sizes):
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def train(model, loss, opt, x, y, batch):
    def epoch():
        for i in range(0, len(x), batch):
            opt.zero_grad()
            l = loss(model(x[i:i + batch]), y[i:i + batch])
            l.backward()
            opt.step()
    return epoch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    r = {}

    x = torch.rand(8192, 2) * 2 - 1; y = (torch.rand(8192, 1) > 0.5).float()
    m = mlp([2, 16, 16, 1])
    r["T1"] = 8192 / median_seconds(train(m, nn.BCEWithLogitsLoss(), torch.optim.Adam(m.parameters(), 1e-3), x, y, 32))

    x = torch.rand(8192, 784) * 2 - 1; y = torch.arange(8192) % 10
    m = mlp([784, 256, 128, 10])
    r["T2"] = 8192 / median_seconds(train(m, nn.CrossEntropyLoss(), torch.optim.Adam(m.parameters(), 1e-3), x, y, 64))

    x = torch.rand(4096, 784) * 2 - 1; y = torch.arange(4096) % 10
    m = mlp([784, 1024, 1024, 10])
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    r["T3"] = 4096 / median_seconds(train(m, nn.CrossEntropyLoss(), opt, x, y, 256))

    x = torch.rand(100, 20) * 2 - 1; y = torch.rand(100, 1) * 2 - 1
    m = mlp([20, 10, 1])
    step = train(m, nn.MSELoss(), torch.optim.Adam(m.parameters(), 0.01), x, y, 100)
    steps = 2000
    r["T4"] = 100 * steps / median_seconds(lambda: [step() for _ in range(steps)])

    m = mlp([2, 16, 16, 1]).eval(); x1 = torch.rand(1, 2)
    calls = 20000
    def infer():
        with torch.no_grad():
            for _ in range(calls):
                m(x1)
    r["I1"] = median_seconds(infer) * 1e9 / calls

    m = mlp([784, 256, 128, 10]).eval(); x = torch.rand(256, 784)
    def infer2():
        with torch.no_grad():
            for _ in range(64):
                m(x)
    r["I2"] = 256 * 64 / median_seconds(infer2)
    r["threads"] = a.threads

    print(f"PyTorch {torch.__version__} eager, {a.threads} thread(s)")
    print("| task | value | unit |\n|---|---:|---|")
    for k in ["T1", "T2", "T3", "T4", "I1", "I2"]:
        print(f"| {k} | {r[k]:.0f} | {'ns/call' if k == 'I1' else 'samples/s'} |")
    print(json.dumps(r))
    if a.json:
        open(a.json, "w").write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
