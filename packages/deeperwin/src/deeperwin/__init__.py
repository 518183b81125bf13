"""deeperwin: Neural-network variational Monte Carlo for the electronic Schroedinger equation, for one or many nuclear geometries with shared weights"""

from deeperwin.__about__ import __version__
from deeperwin._citation import cite

__all__ = ["__version__", "cite"]
