"""The paper behind faket, as BibTeX (the same work as CITATION.cff's preferred-citation)."""

BIBTEX = """\
@article{faket2023,
  title = {FakET: Simulating Cryo-Electron Tomograms with Neural Style Transfer},
  author = {Harar, Pavol and Herrmann, Lukas and Grohs, Philipp and Haselbach, David},
  journal = {arXiv preprint arXiv:2304.02011},
  year = {2023},
}
"""


def cite() -> str:
    """Return the BibTeX entry of the paper to cite when using faket."""
    return BIBTEX
