"""redistributor: Transform samples so that they follow a target distribution: colour transfer, preprocessing, out-of-core data"""

from redistributor.__about__ import __version__
from redistributor._citation import cite

__all__ = ["__version__", "cite"]
