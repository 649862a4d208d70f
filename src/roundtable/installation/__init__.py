"""This installation's identity: a random part for Message-IDs and the secret key's fingerprint."""
