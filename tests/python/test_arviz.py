"""Results the ecosystem reads: an ArviZ InferenceData with ArviZ's names, whose
`arviz.summary` equals thermolab's own summary to 1e-6."""
import numpy as np
import pytest

import thermolab
from conftest import logp

az = pytest.importorskip("arviz")


@pytest.fixture(scope="module")
def result():
    m = thermolab.from_logp(logp, dim=3, names=["a", "b", "c"])
    return thermolab.sample(m, chains=4, warmup=300, draws=500, seed=11, progress=False)


def test_inference_data_groups_and_names(result):
    idata = result.to_arviz()
    assert set(idata.groups()) >= {"posterior", "sample_stats"}
    assert list(idata.posterior.data_vars) == ["a", "b", "c"]
    assert idata.posterior["a"].shape == (4, 500)
    for k in ["diverging", "tree_depth", "energy", "step_size", "lp", "acceptance_rate"]:
        assert k in idata.sample_stats, k
    assert idata.sample_stats["diverging"].dtype == bool
    np.testing.assert_array_equal(idata.posterior["b"].values, result.draws[:, :, 1])


def test_arviz_summary_matches_thermolab(result):
    ours = result.summary()
    theirs = az.summary(result.to_arviz(), round_to="none", stat_focus="mean")
    for col in ["mean", "sd", "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat"]:
        np.testing.assert_allclose(ours[col].values, theirs.loc[ours.index, col].values,
                                   rtol=1e-6, atol=1e-9, err_msg=col)


def test_bfmi_reads_the_energy(result):
    bfmi = az.bfmi(result.to_arviz())
    assert bfmi.shape == (4,) and (bfmi > 0.3).all()


def test_netcdf_round_trip(result, tmp_path):
    idata = result.to_arviz()
    path = tmp_path / "run.nc"
    try:
        idata.to_netcdf(path)
    except (ValueError, ImportError) as e:  # no netCDF engine installed
        pytest.skip(str(e))
    back = az.from_netcdf(path)
    np.testing.assert_array_equal(back.posterior["c"].values, result.draws[:, :, 2])


def test_a_run_folder_on_request(tmp_path):
    import pandas as pd

    m = thermolab.from_logp(lambda x: (-0.5 * x @ x, -x), dim=2, names=["a", "b"])
    target = tmp_path / "run"
    r = thermolab.sample(m, chains=2, warmup=100, draws=200, seed=1, progress=False, out=target)
    assert str(r.folder) == str(target)
    chain1 = pd.read_csv(target / "draws" / "chain_1.csv", comment="#")
    assert {"lp__", "accept_stat__", "divergent__", "a", "b"} <= set(chain1.columns)
    assert np.allclose(chain1[["a", "b"]].to_numpy(), r.draws[1], rtol=1e-12, atol=1e-15)
    summary = pd.read_csv(target / "summary.csv")
    assert len(summary) == 2
    assert (target / "run.json").exists()
    # The figures and the report, as the CLI draws them.
    for f in ("report.html", "trace_a.svg", "trace_a.png", "rank_b.svg", "energy.png"):
        assert (target / f).stat().st_size > 0, f
    assert "<svg" in (target / "report.html").read_text()
    with pytest.raises(ValueError, match="run"):
        thermolab.sample(m, chains=1, warmup=10, draws=10, progress=False, out=target)
    assert pd.read_csv(target / "draws" / "chain_1.csv", comment="#").shape == chain1.shape
    thermolab.sample(m, chains=1, warmup=10, draws=10, progress=False, out=target, force=True)
    assert not (target / "draws" / "chain_1.csv").exists()
