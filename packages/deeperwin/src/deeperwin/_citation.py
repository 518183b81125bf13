"""The paper behind deeperwin, as BibTeX (the same work as CITATION.cff's preferred-citation)."""

BIBTEX = """\
@article{deeperwin2022,
  title = {Solving the electronic Schrödinger equation for multiple nuclear geometries with weight-sharing deep neural networks},
  author = {Scherbela, Michael and Reisenhofer, Rafael and Gerard, Leon and Marquetand, Philipp and Grohs, Philipp},
  journal = {Nature Computational Science},
  year = {2022},
}
"""


def cite() -> str:
    """Return the BibTeX entry of the paper to cite when using deeperwin."""
    return BIBTEX
