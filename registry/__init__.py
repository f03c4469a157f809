"""Certificate of Origin registry: the domain core.

Pure domain code. Nothing here imports a web framework, and only
:mod:`registry.chain.client` talks to an Ethereum node.
"""

__all__: list[str] = []
