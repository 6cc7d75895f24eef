"""``thermolab.sample``: MCMC on a model with the library's samplers."""
from . import _thermolab
from ._thermolab import Model
from .progress import bar
from .result import SampleResult


def as_model(model, dim=None, what="sample"):
    """``model`` as a :class:`thermolab.Model`: a Model as it is, a function
    ``f(x) -> (log_density, gradient)`` with ``dim``."""
    if isinstance(model, Model):
        return model
    if callable(model) and dim is not None:
        from .models import from_logp

        return from_logp(model, dim)
    raise TypeError(
        f"{what}: model must be a thermolab.Model (thermolab.from_logp(f, dim), "
        "from_cfunc, builtin, linear_regression, …) or a function with dim="
    )


def native_settings(sampler="nuts", chains=4, warmup=1000, draws=1000, beta=1.0, seed=0,
                    thin=1, threads=0, target_accept=None, max_depth=10, steps=20, metric="diag",
                    init=None, init_radius=2.0, first_chain=0):
    """:func:`sample`'s settings as the native call takes them (an unknown keyword is a
    ``TypeError`` naming it, as for :func:`sample`)."""
    return dict(
        sampler=sampler, chains=int(chains), warmup=int(warmup), draws=int(draws),
        thin=int(thin), beta=float(beta), seed=int(seed), threads=int(threads),
        target_accept=target_accept, max_depth=int(max_depth), steps=int(steps), metric=metric,
        init=None if init is None else [float(v) for v in init], init_radius=float(init_radius),
        first_chain=int(first_chain),
    )


def sample(
    model,
    sampler="nuts",
    chains=4,
    warmup=1000,
    draws=1000,
    beta=1.0,
    seed=0,
    *,
    dim=None,
    thin=1,
    threads=0,
    target_accept=None,
    max_depth=10,
    steps=20,
    metric="diag",
    init=None,
    init_radius=2.0,
    progress=True,
    out=None,
    force=False,
    first_chain=0,
):
    """Draws from ``exp(-beta * E)`` of ``model`` with ``chains`` chains of ``warmup``
    adaptation iterations and ``draws`` kept draws each.

    ``model`` is a :class:`thermolab.Model` (see :func:`thermolab.from_logp`,
    :func:`thermolab.from_cfunc`, :func:`thermolab.builtin`), or a function
    ``f(x) -> (log_density, gradient)`` together with ``dim``. ``sampler`` is ``nuts``,
    ``hmc`` (``steps`` leapfrog steps), ``mala`` or ``rwm``; ``metric`` ``diag``, ``dense`` or
    ``identity``. Chains start uniformly in ``[-init_radius, init_radius]`` or at ``init``.
    Results depend on ``seed`` only, never on ``threads`` (0: all cores).

    The GIL is released while sampling. Ctrl-C stops the run and returns the draws so far
    (``result.interrupted`` is then True). ``progress`` shows a bar (a notebook bar in
    Jupyter, a line on stderr elsewhere); False hides it. Settings the library refuses raise
    ``ValueError`` with its one-line message; an exception raised by the model's function is
    raised again.

    ``out`` writes a run folder there as ``thermolab sample`` does (``draws/chain_K.csv`` with
    Stan's sampler columns, ``summary.csv``, the figures, ``report.html``, ``run.json``),
    filled under a temporary name and renamed into place. An earlier run there is kept unless
    ``force=True``, and a folder that cannot be used is an error before any sampling; should
    writing fail after the run, the draws are returned with a warning.

    ``first_chain`` numbers the chains from there: chain k draws from the stream of chain
    ``first_chain + k``, so runs of chains 0–3 and 4–7 draw exactly what one run of 8 chains
    draws (how :mod:`thermolab.distributed` splits a run).
    """
    model = as_model(model, dim, "sample")
    out = _thermolab.sample(
        model,
        **native_settings(sampler=sampler, chains=chains, warmup=warmup, draws=draws, beta=beta,
                          seed=seed, thin=thin, threads=threads, target_accept=target_accept,
                          max_depth=max_depth, steps=steps, metric=metric, init=init,
                          init_radius=init_radius, first_chain=first_chain),
        progress=bar("sampling", progress),
        out=None if out is None else str(out),
        force=bool(force),
    )
    return SampleResult(out, settings={
        "sampler": sampler, "chains": chains, "warmup": warmup, "draws": draws, "beta": beta,
        "seed": seed, "thin": thin, "target_accept": target_accept, "metric": metric,
    })
