"""redistributor: transform samples so that they follow a target distribution.

The map ``R = F_T^{-1} o F_S`` (Harar, Elbraechter, Doerfler and Johnson, arXiv:2210.14219) sends
samples of a source ``S`` onto a target ``T``.  :class:`Redistributor` is a scikit-learn transformer
with one map per column; the distributions it uses live in :mod:`redistributor.empirical`,
:mod:`redistributor.kde`, :mod:`redistributor.distributions` and :mod:`redistributor.sketch`.
"""

from redistributor.__about__ import __version__
from redistributor._citation import cite
from redistributor.distributions import Distribution, ScipyDistribution, as_distribution
from redistributor.empirical import EmpiricalDistribution
from redistributor.images import match_image
from redistributor.kde import KDEDistribution
from redistributor.legacy import (
    KernelDensity,
    LearnedDistribution,
    load_redistributor,
    save_redistributor,
)
from redistributor.persistence import load, save
from redistributor.sketch import KLLSketch
from redistributor.transformer import Redistributor
from redistributor.v1_files import load_v1

__all__ = [
    "__version__",
    "cite",
    "Distribution",
    "EmpiricalDistribution",
    "KDEDistribution",
    "KLLSketch",
    "KernelDensity",
    "LearnedDistribution",
    "Redistributor",
    "ScipyDistribution",
    "as_distribution",
    "load",
    "load_redistributor",
    "load_v1",
    "match_image",
    "save",
    "save_redistributor",
]
