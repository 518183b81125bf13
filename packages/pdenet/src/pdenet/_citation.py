"""The paper behind pdenet, as BibTeX (the same work as CITATION.cff's preferred-citation)."""

BIBTEX = """\
@inproceedings{berner2020numerically,
  title = {Numerically solving parametric families of high-dimensional Kolmogorov partial differential equations via deep learning},
  author = {Berner, Julius and Dablander, Markus and Grohs, Philipp},
  booktitle = {Advances in Neural Information Processing Systems 33 (NeurIPS 2020)},
  year = {2020},
}
"""


def cite() -> str:
    """Return the BibTeX entry of the paper to cite when using pdenet."""
    return BIBTEX
