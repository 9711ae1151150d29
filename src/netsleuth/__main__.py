"""``python -m netsleuth``: the same command line as ``netsleuth``."""

from netsleuth.cli import main

if __name__ == "__main__":
    main()
