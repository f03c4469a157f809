"""HTTP API and command-line interface of the Certificate of Origin registry."""
