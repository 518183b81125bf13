"""The paper behind pdenet, as BibTeX (the same work as CITATION.cff's preferred-citation)."""

BIBTEX = """\
@article{pdenet2020,
  title = {Numerically solving parametric families of high-dimensional Kolmogorov partial differential equations via deep learning},
  author = {Berner, Julius and Dablander, Markus and Grohs, Philipp},
  journal = {Advances in Neural Information Processing Systems (NeurIPS)},
  year = {2020},
}
"""


def cite() -> str:
    """Return the BibTeX entry of the paper to cite when using pdenet."""
    return BIBTEX
