"""pdenet: Neural solvers for high-dimensional Kolmogorov and semilinear PDEs, checked against closed forms and Monte Carlo"""

from pdenet.__about__ import __version__
from pdenet._citation import cite

__all__ = ["__version__", "cite"]
