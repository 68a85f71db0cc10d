"""A local SMTP server for the server's email tests
(crates/securechat-server/tests/email.rs).

It is PyPI's aiosmtpd, a real SMTP implementation independent of the
server's client (lettre): the server speaks SMTP to it as it would to any
mail relay. Every message it accepts is parsed with Python's `email`
package and written to the output directory as one JSON file
(`NNNN.json`, in the order received, numbering on from the files already
there): the envelope (`mail_from`,
`rcpt_tos`), the headers the tests look at, and the decoded text and HTML
parts (with `\n` line ends). The file is written under a temporary name and renamed, so a
reader never sees half of one.

Usage: smtp_service.py --port PORT --out DIR. It prints
"smtp service listening on 127.0.0.1:PORT" once it accepts connections,
and serves until it is killed.
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import sys

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, out):
        self.out = out
        # Started again on the same directory, it goes on numbering.
        self.numbers = itertools.count(len(os.listdir(out)) + 1)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            kind = part.get_content_type()
            if kind in ("text/plain", "text/html") and kind not in parts:
                parts[kind] = part.get_content().replace("\r\n", "\n")
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message.get("From", "")),
            "to": str(message.get("To", "")),
            "subject": str(message.get("Subject", "")),
            "list_unsubscribe": str(message.get("List-Unsubscribe", "")),
            "list_unsubscribe_post": str(message.get("List-Unsubscribe-Post", "")),
            "text": parts.get("text/plain"),
            "html": parts.get("text/html"),
        }
        name = os.path.join(self.out, "%04d.json" % next(self.numbers))
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(name + ".tmp", name)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    controller = Controller(Recorder(args.out), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("smtp service listening on 127.0.0.1:%d" % args.port, flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
