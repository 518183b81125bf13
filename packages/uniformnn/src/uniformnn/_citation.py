"""The paper behind uniformnn, as BibTeX (the same work as CITATION.cff's preferred-citation)."""

BIBTEX = """\
@inproceedings{berner2023learning,
  title = {Learning ReLU networks to high uniform accuracy is intractable},
  author = {Berner, Julius and Grohs, Philipp and Voigtlaender, Felix},
  booktitle = {The Eleventh International Conference on Learning Representations (ICLR 2023)},
  year = {2023},
  url = {https://openreview.net/forum?id=nchvKfvVeX6},
}
"""


def cite() -> str:
    """Return the BibTeX entry of the paper to cite when using uniformnn."""
    return BIBTEX
