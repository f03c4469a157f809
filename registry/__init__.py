"""Certificate of Origin registry: the domain core.

Pure domain code. Nothing here imports a web framework, and only
:mod:`registry.chain.client` talks to an Ethereum node.

Every keccak computed through eth-hash (eth-utils, eth-account, web3.py: checksummed addresses,
message hashes, storage keys) uses the C Keccak of ``safe-pysha3``, a dependency, through eth-hash's
documented ``ETH_HASH_BACKEND`` switch; its automatic choice would be pycryptodome, whose per-call
overhead is about six times higher (10 µs against 1.6 µs for 64 bytes). eth-hash reads the switch at
its first hash, so setting it here, on import, is early enough; a value set outside is kept.
"""

import os

os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")

__all__: list[str] = []
