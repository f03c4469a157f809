"""The vocabulary: the certificate dataset and its code lists, revocation reasons, verification reports."""
