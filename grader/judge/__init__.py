"""The judge: pytest suites that compute every expected value and every score."""
