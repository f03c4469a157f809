"""Talking to the EVM chain: the client, the contract bindings, managed chain nodes, the compiler."""
