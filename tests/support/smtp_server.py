#!/usr/bin/python3
"""A real SMTP server on 127.0.0.1 for the email tests (Debian's python3-aiosmtpd).

Listens on --port (0: an ephemeral one) and writes the port to --port-file once it
accepts connections.
Each message it accepts is parsed with Python's email package (independently of
kpiwatch) and written to --dir as one JSON file: the envelope, the raw and the
decoded headers, both parts of a multipart/alternative body, and how it logged in.
--fail-first N answers the first N messages with 451, as a relay that is busy.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def subject_lines(data):
    """The Subject header's physical lines, as sent (folded lines start with white space)."""
    lines, inside = [], False
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"subject:"):
            inside = True
        elif not line[:1] in (b" ", b"\t"):
            inside = False
        if inside:
            lines.append(line.decode("ascii", "replace"))
    return lines


def parse(data):
    raw = email.message_from_bytes(data, policy=email.policy.compat32)
    msg = email.message_from_bytes(data, policy=email.policy.default)
    parts = {}
    types = []
    for part in msg.walk():
        types.append(part.get_content_type())
        if part.get_content_maintype() == "text":
            content = part.get_content()
            bare_lf = content.count("\n") - content.count("\r\n")
            parts[part.get_content_type()] = {
                "charset": part.get_content_charset(),
                "transfer_encoding": part.get("Content-Transfer-Encoding", ""),
                "line_ends": "crlf" if bare_lf == 0 else "lf" if "\r\n" not in content else "mixed",
                "content": content.replace("\r\n", "\n"),  # as a reader sees it
            }
    return {
        "raw_headers": {k: v for k, v in raw.items()},
        "subject": str(msg["Subject"]),
        "from": str(msg["From"]),
        "to": str(msg["To"]),
        "cc": str(msg["Cc"] or ""),
        "message_id": str(msg["Message-ID"]),
        "date": str(msg["Date"]),
        "content_language": str(msg["Content-Language"] or ""),
        "content_types": types,
        "text": parts.get("text/plain", {}).get("content", ""),
        "html": parts.get("text/html", {}).get("content", ""),
        "text_charset": parts.get("text/plain", {}).get("charset", ""),
        "text_encoding": parts.get("text/plain", {}).get("transfer_encoding", ""),
        "text_line_ends": parts.get("text/plain", {}).get("line_ends", ""),
        "subject_lines": subject_lines(data),
    }


class Handler:
    def __init__(self, out_dir, fail_first):
        self.out_dir = out_dir
        self.fail_first = fail_first
        self.refused = 0
        # Numbered after those of an earlier run in the same directory (a restart).
        self.count = len([n for n in os.listdir(out_dir) if n.endswith(".json")])

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.fail_first:
            self.refused += 1
            return "451 4.3.0 try again later"
        self.count += 1
        record = parse(envelope.original_content or envelope.content)
        record["mail_from"] = envelope.mail_from
        record["rcpt_tos"] = envelope.rcpt_tos
        record["tls"] = server.transport.get_extra_info("ssl_object") is not None
        login = getattr(session.auth_data, "login", b"") if session.authenticated else b""
        record["login"] = login.decode() if isinstance(login, bytes) else ""
        name = os.path.join(self.out_dir, "%04d.json" % self.count)
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(name + ".tmp", name)  # the test reads whole files only
        return "250 2.0.0 OK queued"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--auth", help="user:password that AUTH accepts; AUTH is then required")
    ap.add_argument("--fail-first", type=int, default=0)
    args = ap.parse_args()

    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword) or not args.auth:
            return AuthResult(success=False, handled=False)
        user, password = args.auth.split(":", 1)
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    handler = Handler(args.dir, args.fail_first)

    def factory():
        return SMTP(
            handler,
            hostname="kpiwatch-test-relay",
            tls_context=context if args.tls == "starttls" else None,
            require_starttls=args.tls == "starttls",
            authenticator=authenticator if args.auth else None,
            auth_required=bool(args.auth),
            # Over implicit TLS aiosmtpd does not see the TLS it requires for AUTH: the socket is TLS from the start.
            auth_require_tls=args.tls == "starttls",
        )

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(factory, "127.0.0.1", args.port, ssl=context if args.tls == "implicit" else None)
    )
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.sockets[0].getsockname()[1])
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
