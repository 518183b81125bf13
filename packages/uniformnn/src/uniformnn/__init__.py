"""uniformnn: Uniform-norm accuracy of ReLU networks: sampling-complexity experiments and certified sup-norm error brackets"""

from uniformnn.__about__ import __version__
from uniformnn._citation import cite

__all__ = ["__version__", "cite"]
