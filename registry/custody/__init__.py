"""Secrets and who holds them: the KEK, data keys and the vault (crypto-shredding), accounts, API keys."""
