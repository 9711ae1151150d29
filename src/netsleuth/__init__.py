"""netsleuth: diagnose Kubernetes networking.

Layers (enforced by import-linter, see pyproject.toml):

    model  <-  sources  <-  policy  <-  trace / checks / probe / lab  <-  render  <-  cli

``model`` holds the frozen typed objects and is the bottom layer, so every
other layer can speak its types. ``sources`` turn files or the live API into
those objects; analysis packages never import ``sources``.
"""

__version__ = "0.1.0"
__url__ = "https://github.com/netsleuth/netsleuth"  # also [project.urls] in pyproject.toml
