"""Entry point of the one-file executable built by `make dist` (packaging/qrstudio-box.spec).

The frozen program behaves exactly like the `qrstudio-box` console script.
"""

import sys

from qrstudio_box.cli import main

if __name__ == "__main__":
    sys.exit(main())
