"""mds-meta: pins mutually compatible versions of the six tools and offers the `mds` command."""

from mds_meta.__about__ import __version__
from mds_meta.demo import DemoResult, run_demos
from mds_meta.tools import TOOLS, Tool, citation, installed_version, pinned_versions

__all__ = [
    "TOOLS",
    "DemoResult",
    "Tool",
    "__version__",
    "citation",
    "installed_version",
    "pinned_versions",
    "run_demos",
]
