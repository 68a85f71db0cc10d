"""TOTP codes for the server's two-factor tests
(crates/securechat-server/tests/two_factor.rs).

PyPI's pyotp computes them, an RFC 6238 implementation independent of the
server's (totp-rs): a test that signs in with its codes checks that the
server speaks the same TOTP as an authenticator app.

Usage: totp_code.py SECRET UNIX_TIME... — prints the code of the base32
SECRET at each time, one per line.
"""

import sys

import pyotp


def main() -> None:
    secret, *times = sys.argv[1:]
    totp = pyotp.TOTP(secret)  # SHA-1, 6 digits, 30-second steps
    for t in times:
        print(totp.at(int(t)))


if __name__ == "__main__":
    main()
