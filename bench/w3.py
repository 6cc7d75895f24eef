"""W3 (2-D Ising) side by side: thermolab's plain and multi-spin Metropolis kernels against the
numpy checkerboard and D-Wave's `dwave-samplers` annealer (spin-flip attempts per second, one
thread), agreement with Kaufman's exact ⟨e⟩ and c at T = 2.0, 2.269, 3.0, and the growth of the
integrated autocorrelation time of |M| at T_c with L for Wolff and Metropolis.

    .venv-peers/bin/pip install numpy scipy mpmath dwave-samplers dimod
    PEER_PYTHON=.venv-peers/bin/python python3 bench/w3.py      # --quick for a smoke run
"""
import json
import math
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.environ.get("THERMOLAB_PEERS", os.path.join(ROOT, "..", "shared", "bench"))
PY = os.environ.get("PEER_PYTHON", os.path.join(ROOT, ".venv-peers", "bin", "python"))
BIN = os.path.join(ROOT, "target", "release", "thermolab")
QUICK = "--quick" in sys.argv
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
TC = 2.269185314213022


def peer(script, *args):
    out = subprocess.run([PY, os.path.join(PEERS, script), *args], cwd=PEERS, env=ENV, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def ising(tmp, name, *args):
    subprocess.run([BIN, "ising", *args, "--out", name, "--format", "json", "--no-plots"], cwd=tmp,
                   env=ENV, check=True, capture_output=True, text=True)
    with open(os.path.join(tmp, name, "run.json")) as fh:
        return json.load(fh)["results"]


def slope(ls, taus):
    xs, ys = [math.log(v) for v in ls], [math.log(v) for v in taus]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "thermolab-cli"], cwd=ROOT, check=True)
    out = {"quick": QUICK}
    sizes = [64] if QUICK else [64, 256]
    with tempfile.TemporaryDirectory() as tmp:
        # Throughput: pure sweeps, one thread, measurement time excluded on every side.
        speed = {}
        for L in sizes:
            plain = ising(tmp, f"p{L}", "--L", str(L), "--T", str(TC), "--algorithm", "metropolis",
                          "--sweeps", str(max(50, 2_000_000 // (L * L) * 20)), "--thermalize", "1", "--threads", "1")
            msc = ising(tmp, f"m{L}", "--L", str(L), "--T", str(TC), "--algorithm", "msc",
                        "--sweeps", str(max(20, 4_000_000 // (L * L))), "--thermalize", "1", "--threads", "1")
            speed[L] = {"thermolab_plain": plain["flips_per_second"], "thermolab_msc": msc["flips_per_second"]}
        out["numpy"] = peer("w3_numpy.py", "--sizes", ",".join(map(str, sizes)), *(["--quick"] if QUICK else []))
        try:
            out["dwave"] = peer("w3_dwave.py", "--sizes", ",".join(map(str, sizes)), *(["--quick"] if QUICK else []))
        except subprocess.CalledProcessError as e:
            out["dwave"] = {"error": e.stderr[-500:]}
        for L in sizes:
            s = speed[L]
            s["numpy"] = out["numpy"]["sizes"][str(L)]["flips_per_s"]
            if "sizes" in out["dwave"]:
                s["dwave"] = out["dwave"]["sizes"][str(L)]["flips_per_s"]
            for k in ("numpy", "dwave"):
                if k in s:
                    s[f"plain_vs_{k}"] = s["thermolab_plain"] / s[k]
                    s[f"msc_vs_{k}"] = s["thermolab_msc"] / s[k]
        out["speed"] = speed
        # Exactness at L = 64 for both kernels.
        exact = {}
        for alg, sweeps in (("metropolis", 20_000), ("msc", 2_000)):
            r = ising(tmp, f"x{alg}", "--L", "64", "--T", f"2.0,{TC},3.0", "--algorithm", alg,
                      "--sweeps", str(sweeps // (4 if QUICK else 1)))
            exact[alg] = [{"T": p["temperature"], "e": p["energy"], "c": p["heat_capacity"],
                           "z_e": p["exact"]["z_energy"], "z_c": p["exact"]["z_heat_capacity"]} for p in r["points"]]
        out["exact_L64"] = exact
        # Autocorrelation times of |M| at T_c.
        ls = [16, 32] if QUICK else [16, 32, 64, 128]
        taus = {"wolff": [], "metropolis": []}
        for L in ls:
            w = ising(tmp, f"w{L}", "--L", str(L), "--T", str(TC), "--algorithm", "wolff", "--sweeps", "20000")
            taus["wolff"].append(w["points"][0]["tau_abs_magnetization"])
            sweeps = int(min(100_000, max(20_000, 4 * L ** 2.1)))
            m = ising(tmp, f"t{L}", "--L", str(L), "--T", str(TC), "--algorithm", "msc", "--sweeps", str(sweeps // (10 if QUICK else 1)))
            taus["metropolis"].append(m["points"][0]["tau_abs_magnetization"])
        out["tau"] = {"L": ls, **taus, "exponent_wolff": slope(ls, taus["wolff"]), "exponent_metropolis": slope(ls, taus["metropolis"])}
    for L, s in out["speed"].items():
        print(f"L={L}: thermolab plain {s['thermolab_plain']:.3e}, msc {s['thermolab_msc']:.3e}, numpy {s['numpy']:.3e}"
              + (f", dwave {s['dwave']:.3e} → plain {s['plain_vs_dwave']:.1f}x, msc {s['msc_vs_dwave']:.1f}x dwave" if "dwave" in s else ""))
    for alg, pts in out["exact_L64"].items():
        print(f"L=64 {alg}: " + "; ".join(f"T={p['T']:.3f} z_e={p['z_e']:+.2f} z_c={p['z_c']:+.2f}" for p in pts))
    t = out["tau"]
    print(f"tau(|M|) at T_c, L={t['L']}: wolff {[round(v, 2) for v in t['wolff']]} (L^{t['exponent_wolff']:.2f}), "
          f"metropolis {[round(v, 1) for v in t['metropolis']]} (L^{t['exponent_metropolis']:.2f})")
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results", "w3%s.json" % ("-quick" if QUICK else ""))
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
