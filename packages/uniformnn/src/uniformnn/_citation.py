"""The paper behind uniformnn, as BibTeX (the same work as CITATION.cff's preferred-citation)."""

BIBTEX = """\
@article{uniformnn2023,
  title = {Learning ReLU networks to high uniform accuracy is intractable},
  author = {Berner, Julius and Grohs, Philipp and Voigtlaender, Felix},
  journal = {International Conference on Learning Representations (ICLR)},
  year = {2023},
}
"""


def cite() -> str:
    """Return the BibTeX entry of the paper to cite when using uniformnn."""
    return BIBTEX
