"""Statistics across runs: what a run measured, and tests of differences between runs.

``observe(run_dir)`` reduces a run's report to named metrics and the events behind
them; ``load_group(path)`` reads one run or a directory of runs (a campaign cell);
``compare(a, b)`` tests two groups against each other and ``render_comparison``
prints the result. The statistics come from SciPy, the optional ``campaign`` extra:
without it they raise :class:`MissingScipyError`, which names the ``pip install``.
"""

from __future__ import annotations

from monerosim_core.analysis.compare import Comparison, compare
from monerosim_core.analysis.groups import GroupError, RunGroup, load_group
from monerosim_core.analysis.observation import Observation, observe
from monerosim_core.analysis.render import render_comparison
from monerosim_core.analysis.stats import MissingScipyError, require_scipy

__all__ = [
    "Comparison",
    "GroupError",
    "MissingScipyError",
    "Observation",
    "RunGroup",
    "compare",
    "load_group",
    "observe",
    "render_comparison",
    "require_scipy",
]
