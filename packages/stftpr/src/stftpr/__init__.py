"""stftpr: Phase retrieval from short-time Fourier (Gabor) transform magnitudes, with stability diagnostics"""

from stftpr.__about__ import __version__
from stftpr._citation import cite

__all__ = ["__version__", "cite"]
