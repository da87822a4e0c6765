#!/usr/bin/env python
"""Same as the ``palier`` console script."""

from palier.cli import main

if __name__ == "__main__":
    main()
