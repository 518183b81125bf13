"""pdenet: neural solvers for high-dimensional Kolmogorov and semilinear PDEs.

Learn ``u(t, x, p)`` of a (parametric) linear Kolmogorov PDE on a whole region from SDE
simulations (Feynman-Kac regression or the BSDE / control-variate loss), or ``u(0, x0)`` of a
semilinear PDE by DeepBSDE, and check it against closed forms and Monte Carlo.
"""

from pdenet.__about__ import __version__
from pdenet._citation import cite
from pdenet.config import NetworkConfig, OptimConfig, SolveConfig, load_config
from pdenet.deepbsde import DeepBSDEModel, DeepBSDESolution
from pdenet.evaluation import evaluate, relative_errors
from pdenet.losses import LOSSES, bsde_loss, feynman_kac_loss, gradient_variance
from pdenet.montecarlo import MonteCarloSolver
from pdenet.networks import MLP, MultilevelNet, SolutionNet
from pdenet.problems import (
    Box,
    KolmogorovProblem,
    SemilinearProblem,
    get_problem,
    hjb_cole_hopf,
    list_problems,
)
from pdenet.sde import BrownianMotion, EulerSDE, GeometricBrownianMotion, OrnsteinUhlenbeck
from pdenet.training import (
    DivergenceError,
    NeuralSolution,
    SolveResult,
    evaluate_run,
    load_run,
    solve,
)

__all__ = [
    "__version__",
    "cite",
    "Box",
    "BrownianMotion",
    "DeepBSDEModel",
    "DeepBSDESolution",
    "DivergenceError",
    "EulerSDE",
    "GeometricBrownianMotion",
    "KolmogorovProblem",
    "LOSSES",
    "MLP",
    "MonteCarloSolver",
    "MultilevelNet",
    "NetworkConfig",
    "NeuralSolution",
    "OptimConfig",
    "OrnsteinUhlenbeck",
    "SemilinearProblem",
    "SolutionNet",
    "SolveConfig",
    "SolveResult",
    "bsde_loss",
    "evaluate",
    "evaluate_run",
    "feynman_kac_loss",
    "get_problem",
    "gradient_variance",
    "hjb_cole_hopf",
    "list_problems",
    "load_config",
    "load_run",
    "relative_errors",
    "solve",
]
