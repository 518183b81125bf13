"""faket: Fast simulation of cryo-electron tomograms: projection, noise model, neural style transfer, reconstruction

The end-to-end simulator is ``faket.simulate.simulate`` (not re-exported: a package attribute
``simulate`` would hide the submodule ``faket.simulate``).
"""

from faket.__about__ import __version__
from faket._citation import cite
from faket.demo import run_demo
from faket.evaluate import (
    Detection,
    compare_tilt_series,
    f1_score,
    gram_statistics,
    locate_particles,
    normalized_cross_correlation,
    radial_power_spectrum,
    tilt_statistics,
)
from faket.mrc import MRCVolume, read_mrc, write_mrc
from faket.noise import NoiseModel, match_moments
from faket.phantom import Phantom, make_phantom
from faket.projection import backproject, project
from faket.reconstruction import fbp, sirt
from faket.simulate import SimulateConfig, add_gaussian_noise, apply_ctf, measured_like, tilt_angles
from faket.style import (
    MultiScaleTextureModel,
    StyleModel,
    VGG19Features,
    default_vgg19_weights_path,
    load_vgg19_state_dict,
    make_style_model,
    vgg19,
)
from faket.tilts import (
    Particle,
    read_angles,
    read_particle_list,
    read_shrec_alignment,
    read_tlt,
    write_particle_list,
    write_tlt,
)
from faket.transfer import TransferResult, gram_matrix, scaled_mse, style_transfer
from faket.unet import UNet3D, predict_segmentation, segmentation_scores, train_unet

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
    "vgg19",
    "make_style_model",
    "load_vgg19_state_dict",
    "default_vgg19_weights_path",
    "VGG19Features",
    "MultiScaleTextureModel",
    "StyleModel",
    "style_transfer",
    "TransferResult",
    "gram_matrix",
    "scaled_mse",
    "SimulateConfig",
    "measured_like",
    "apply_ctf",
    "add_gaussian_noise",
    "tilt_angles",
    "compare_tilt_series",
    "radial_power_spectrum",
    "gram_statistics",
    "tilt_statistics",
    "normalized_cross_correlation",
    "locate_particles",
    "f1_score",
    "Detection",
    "UNet3D",
    "train_unet",
    "predict_segmentation",
    "segmentation_scores",
    "run_demo",
]
