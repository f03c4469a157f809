"""Zero-knowledge claims about a certificate's confidential figures: commitment, circuits, proving, verifying."""
