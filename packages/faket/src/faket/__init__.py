"""faket: Fast simulation of cryo-electron tomograms: projection, noise model, neural style transfer, reconstruction"""

from faket.__about__ import __version__
from faket._citation import cite

__all__ = ["__version__", "cite"]
