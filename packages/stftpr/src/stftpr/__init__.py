"""stftpr: phase retrieval from short-time Fourier (Gabor) transform magnitudes, with stability diagnostics.

The public API:

* :class:`STFT`: the transform (lattice, window, canonical dual, phase convention,
  projection onto consistent coefficients);
* :func:`reconstruct`: one entry point for Griffin-Lim, Fast Griffin-Lim, accelerated
  Griffin-Lim, ADMM, PGHI, real-time PGHI, L-BFGS and their combinations (default PGHI then Fast Griffin-Lim);
* :func:`pghi`, :func:`rtpghi`, :class:`RealTimePGHI`: phase gradient heuristic integration
  (:func:`phase_derivatives` and :func:`integrate_phase` are its two stages);
* :func:`diagnose`, :func:`find_islands`, :func:`tf_graph`, :func:`reconstruct_islands`:
  stability diagnostics from the theory of Gabor phase retrieval;
* :func:`spectral_convergence`, :func:`snr`, :func:`snr_per_island`, :func:`inconsistency`:
  metrics.
"""

from stftpr.__about__ import __version__
from stftpr._citation import cite
from stftpr.algorithms import METHODS, IterationState, ReconstructionResult, reconstruct
from stftpr.diagnostics import (
    Island,
    StabilityReport,
    TFGraph,
    algebraic_connectivity,
    cut_conductance,
    diagnose,
    find_islands,
    reconstruct_islands,
    sweep_cut,
    tf_graph,
)
from stftpr.metrics import (
    align_global,
    align_per_island,
    inconsistency,
    snr,
    snr_per_island,
    spectral_convergence,
)
from stftpr.phase_gradient import RealTimePGHI, integrate_phase, pghi, phase_derivatives, rtpghi
from stftpr.transform import STFT
from stftpr.windows import gaussian

__all__ = [
    "METHODS",
    "STFT",
    "Island",
    "IterationState",
    "RealTimePGHI",
    "ReconstructionResult",
    "StabilityReport",
    "TFGraph",
    "__version__",
    "algebraic_connectivity",
    "align_global",
    "align_per_island",
    "cite",
    "cut_conductance",
    "diagnose",
    "find_islands",
    "gaussian",
    "inconsistency",
    "integrate_phase",
    "phase_derivatives",
    "pghi",
    "reconstruct",
    "reconstruct_islands",
    "rtpghi",
    "snr",
    "snr_per_island",
    "spectral_convergence",
    "sweep_cut",
    "tf_graph",
]
