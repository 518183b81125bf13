"""The paper behind stftpr, as BibTeX (the same work as CITATION.cff's preferred-citation)."""

BIBTEX = """\
@article{stftpr2019,
  title = {Stable Gabor phase retrieval and spectral clustering},
  author = {Grohs, Philipp and Rathmair, Martin},
  journal = {Communications on Pure and Applied Mathematics},
  year = {2019},
}
"""


def cite() -> str:
    """Return the BibTeX entry of the paper to cite when using stftpr."""
    return BIBTEX
