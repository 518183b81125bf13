"""The paper behind redistributor, as BibTeX (the same work as CITATION.cff's preferred-citation)."""

BIBTEX = """\
@article{redistributor2022,
  title = {Redistributor: Transforming Empirical Data Distributions},
  author = {Harar, Pavol and Elbraechter, Dennis and Doerfler, Monika and Johnson, Kory D.},
  journal = {arXiv preprint arXiv:2210.14219},
  year = {2022},
}
"""


def cite() -> str:
    """Return the BibTeX entry of the paper to cite when using redistributor."""
    return BIBTEX
