"""docs/oidc.md's Authlib (Flask) app, run as written against a real TokenServer.

Run by tests/TokenServer.Tests/Oidc/PythonRelyingPartyTests.cs with Debian's /usr/bin/python3:

    python3 authlib_rp.py <docs/oidc.md> <issuer>      (PORTAL_SECRET, SESSION_SECRET in the environment)

Flask's test client plays the app's side of the browser: it writes one JSON line
{"authorization_url": ...}, reads the URL the browser was sent back to (one line on stdin), and
writes one JSON line with what the app stored in its session.
"""
import json
import re
import sys
from urllib.parse import urlsplit

docs_path, issuer = sys.argv[1], sys.argv[2]
with open(docs_path, encoding="utf-8") as f:
    docs = f.read()
section = docs[docs.index("## Python (Authlib"):]
code = re.search(r"```python\n(.*?)```", section, re.S).group(1).replace("https://auth.example.org", issuer)
module = {"__name__": "portal"}
exec(compile(code, "docs/oidc.md (Python)", "exec"), module)
app = module["app"]

with app.test_client() as browser:
    start = browser.get("/login")
    print(json.dumps({"authorization_url": start.headers["Location"]}), flush=True)
    callback = urlsplit(sys.stdin.readline().strip())
    back = browser.get(f"{callback.path}?{callback.query}")
    with browser.session_transaction() as session:
        user = session.get("user")
    print(json.dumps({"status": back.status_code, "location": back.headers.get("Location"), "user": user}), flush=True)
