"""Long NUTS reference runs for the posteriordb posteriors without an exact answer
(gp-pois-regr, low-dim-gauss-mix, diamonds): per parameter (on the unconstrained scale the
targets sample) the mean, sd and their Monte-Carlo standard errors, with the run's R̂, ESS and
divergences, written to crates/thermolab/data/posteriordb/reference.json. The test
`systems::posteriordb::tests::nuts_matches_the_reference_runs` checks a short run against them.

    python3 bench/posteriordb_reference.py      # diamonds needs THERMOLAB_POSTERIORDB or ../shared

Not a timing script (one thread, so that it can share the machine with one).
"""
import json
import os
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "thermolab")
OUT = os.path.join(ROOT, "crates", "thermolab", "data", "posteriordb", "reference.json")
RUNS = {
    # Small steps: at the default 0.8 the GP's hyper-parameters give ~0.5 % divergences.
    "gp-pois-regr": ["--chains", "8", "--warmup", "2000", "--draws", "10000", "--target-accept", "0.95"],
    "low-dim-gauss-mix": ["--chains", "8", "--warmup", "1000", "--draws", "10000"],
    "diamonds": ["--chains", "8", "--warmup", "2000", "--draws", "10000", "--metric", "dense"],
}
SEED = 20261202


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "thermolab-cli"], cwd=ROOT, check=True)
    env = dict(os.environ)
    env.setdefault("THERMOLAB_POSTERIORDB", os.path.join(ROOT, "..", "shared", "data", "posteriordb"))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for target, args in RUNS.items():
            cmd = [BIN, "sample", "--target", target, "--seed", str(SEED), "--threads", "1", *args,
                   "--out", os.path.join(tmp, target), "--no-plots", "--format", "json"]
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            with open(os.path.join(tmp, target, "run.json")) as fh:
                res = json.load(fh)["results"]
            out[target] = {
                "command": "thermolab " + " ".join(cmd[1:cmd.index("--out")]),
                "max_r_hat": res["max_r_hat"],
                "min_ess_bulk": res["min_ess_bulk"],
                "divergences": res["divergences"],
                "parameters": [{k: p[k] for k in ["name", "mean", "sd", "mcse_mean", "mcse_sd", "ess_bulk"]}
                               for p in res["parameters"]],
            }
            print(target, "R̂", round(res["max_r_hat"], 4), "ESS", round(res["min_ess_bulk"]),
                  "divergences", res["divergences"], flush=True)
    tmp_path = OUT + ".partial"
    with open(tmp_path, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    os.replace(tmp_path, OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
