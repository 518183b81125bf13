"""faket: Fast simulation of cryo-electron tomograms: projection, noise model, neural style transfer, reconstruction"""

from faket.__about__ import __version__
from faket._citation import cite
from faket.mrc import MRCVolume, read_mrc, write_mrc
from faket.noise import NoiseModel, match_moments
from faket.phantom import Phantom, make_phantom
from faket.projection import backproject, project
from faket.reconstruction import fbp, sirt
from faket.tilts import (
    Particle,
    read_angles,
    read_particle_list,
    read_shrec_alignment,
    read_tlt,
    write_particle_list,
    write_tlt,
)

__all__ = [
    "__version__",
    "cite",
    "MRCVolume",
    "read_mrc",
    "write_mrc",
    "Particle",
    "read_tlt",
    "write_tlt",
    "read_angles",
    "read_shrec_alignment",
    "read_particle_list",
    "write_particle_list",
    "project",
    "backproject",
    "fbp",
    "sirt",
    "NoiseModel",
    "match_moments",
    "Phantom",
    "make_phantom",
]
