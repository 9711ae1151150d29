"""``python -m netsleuth.cli``."""

from netsleuth.cli import main

if __name__ == "__main__":
    main()
