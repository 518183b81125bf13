"""uniformnn: uniform-norm (sup-norm) accuracy of ReLU networks, measured and certified.

Main entry points:

- :func:`sup_norm_bracket`: certified ``[lower, upper]`` of ``sup |f - g|`` on a box.
- :func:`lower_bound`, :func:`error_norms`: attained lower bounds and L1/L2 estimates.
- :func:`teacher_network`, :func:`make_target`: the paper's random teachers and test functions.
- :func:`run_experiment`, :func:`aggregate`: sampling-complexity studies.
"""

from uniformnn.__about__ import __version__
from uniformnn._citation import cite
from uniformnn.aggregation import aggregate, write_aggregate
from uniformnn.baselines import GridInterpolant, fit_baseline
from uniformnn.bounds import crown_bounds, difference_layers, interval_bounds, network_bounds
from uniformnn.box import Box
from uniformnn.bracket import BracketResult, sup_norm_bracket
from uniformnn.config import ExperimentConfig, load_config
from uniformnn.experiment import collect_results, plan_jobs, read_results, run_experiment
from uniformnn.networks import (
    ReLUNetwork,
    as_relu_network,
    load_network,
    random_relu_network,
    save_network,
    teacher_network,
)
from uniformnn.objective import Objective
from uniformnn.plotting import fit_rate, plot_results
from uniformnn.search import LowerBound, error_norms, lower_bound
from uniformnn.targets import (
    Target,
    function_target,
    make_target,
    network_target,
    oscillatory_target,
    sines_target,
)
from uniformnn.training import TrainResult, train_student

__all__ = [
    "Box",
    "ExperimentConfig",
    "GridInterpolant",
    "TrainResult",
    "aggregate",
    "collect_results",
    "fit_baseline",
    "fit_rate",
    "load_config",
    "plan_jobs",
    "plot_results",
    "read_results",
    "run_experiment",
    "train_student",
    "write_aggregate",
    "BracketResult",
    "LowerBound",
    "Objective",
    "ReLUNetwork",
    "Target",
    "__version__",
    "as_relu_network",
    "cite",
    "crown_bounds",
    "difference_layers",
    "error_norms",
    "function_target",
    "interval_bounds",
    "load_network",
    "lower_bound",
    "make_target",
    "network_bounds",
    "network_target",
    "oscillatory_target",
    "random_relu_network",
    "save_network",
    "sines_target",
    "sup_norm_bracket",
    "teacher_network",
]
