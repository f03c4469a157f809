"""From a certificate to what is anchored: salted leaves, the document hash, Merkle batches, terms."""
