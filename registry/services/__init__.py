"""What callers can do, behind role checks: issuing, governance, Customs work, peers."""
