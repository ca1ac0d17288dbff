"""CSRF pairs for the `create` scenario of bench/scenarios.lua: `token cookie` per line, the
cookie being NextAuth's `token|sha256hex(token + secret)` (URL-encoded), so that each callback
carries a valid pair of its own and creates a new guest.

    python3 bench/csrf_pairs.py SECRET COUNT OUT
"""
import hashlib
import os
import sys

secret, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(out, "w") as f:
    for _ in range(count):
        token = os.urandom(32).hex()
        digest = hashlib.sha256((token + secret).encode()).hexdigest()
        f.write(f"{token} {token}%7C{digest}\n")
