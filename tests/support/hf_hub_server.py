#!/usr/bin/env python3
"""A local imitation of the Hugging Face Hub for bentov's download tests (standard library only).

Serves fixture checkpoints with the Hub's URL scheme and headers:

  GET  /api/models/{org}/{name}/revision/{rev}  -> {"sha", "siblings": [{"rfilename"}]}
  HEAD|GET /{org}/{name}/resolve/{rev}/{file}   -> small files: 200, ETag "<git blob sha1>",
                                                   X-Repo-Commit
                                                -> LFS files (*.safetensors, *.bin): 302 to
                                                   /cdn/<sha256> with X-Linked-Etag "<sha256>",
                                                   X-Linked-Size, X-Repo-Commit on the 302
  HEAD|GET /cdn/<sha256>                        -> the bytes, Range supported (206); the FIRST
                                                   GET of every blob is cut off: the headers
                                                   promise the whole length, half the bytes
                                                   come, then the connection is closed
  GET  /_stats                                  -> every request seen (method, path, range,
                                                   authorization), for the test's assertions

Errors as the Hub sends them: 404 with X-Error-Code RepoNotFound / RevisionNotFound /
EntryNotFound, 401 GatedRepo without a token, 403 with a token that has not accepted the
licence. Repositories are listed in REPOS below; paths are relative to --root (the project).

Usage: hf_hub_server.py --root DIR   (prints "PORT <n>" on stdout once listening, and exits
when its stdin closes, so a crashed test never leaves it running).
"""
import argparse
import hashlib
import json
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

GOOD_TOKEN = "hf_test_token"     # has access to the gated repository
DENIED_TOKEN = "hf_denied_token"  # a valid token that has not accepted the licence

GPT2_FILES = ["config.json", "generation_config.json", "model.safetensors"]
DEMO_FILES = ["config.json", "generation_config.json", "merges.txt", "vocab.json",
              "tokenizer_config.json", "model.safetensors"]
OPT_SHARDED = ["config.json", "model.safetensors.index.json"] + [
    f"model-0000{i}-of-00005.safetensors" for i in range(1, 6)]

# Files every repository also lists but bentov must not fetch.
EXTRA = {".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
         "README.md": b"# test model\n",
         "onnx/model.safetensors": b"not wanted" * 100}

REPOS = {
    "test-org/tiny-gpt2": {"dir": "tests/data/fixtures/gpt2-lmhead", "files": GPT2_FILES},
    "test-org/gpt2-demo": {"dir": "models/gpt2-demo", "files": DEMO_FILES, "tags": ["v1.0"]},
    "test-org/opt-sharded": {"dir": "tests/data/fixtures/opt-postln-proj-sharded", "files": OPT_SHARDED},
    "test-org/gated": {"dir": "tests/data/fixtures/gpt2-lmhead", "files": GPT2_FILES, "gated": True},
    "test-org/nohead": {"dir": "tests/data/fixtures/gpt2-lmhead", "files": GPT2_FILES, "no_head": True},
    "test-org/corrupt": {"dir": "tests/data/fixtures/gpt2-lmhead", "files": GPT2_FILES, "corrupt": True},
    # The cut response has no Content-Length: its end is the connection's close, so the client
    # sees a "complete" short body and must notice it from X-Linked-Size.
    # A Location without scheme and host (/cdn/...), whose target answers HEAD with 501 (as a
    # plain http.server handler without do_HEAD does): the metadata of the 302 must suffice.
    "test-org/relative": {"dir": "tests/data/fixtures/gpt2-lmhead", "files": GPT2_FILES,
                          "relative_location": True},
    "test-org/no-length": {"dir": "tests/data/fixtures/gpt2-lmhead", "files": GPT2_FILES,
                           "cut_without_length": True},
    "test-org/evil": {"dir": "tests/data/fixtures/gpt2-lmhead", "files": GPT2_FILES,
                      "extra_siblings": ["../../escaped.txt"]},
    "test-org/evil-index": {"dir": "tests/data/fixtures/gpt2-lmhead", "files": ["config.json"],
                            "synthetic": {"model.safetensors.index.json":
                                          b'{"weight_map": {"w": "../../escaped.safetensors"}}'}},
    "test-org/bin-only": {"dir": "tests/data/fixtures/gpt2-lmhead", "files": ["config.json"],
                          "synthetic": {"pytorch_model.bin": bytes(range(256)) * 40}},
}


def is_lfs(name):
    return name.endswith(".safetensors") or name.endswith(".bin")


def blob_key(repo, sha):
    """The CDN path of a blob: per repository variant, so each gets its own first (cut) GET."""
    if repo.spec.get("corrupt"):
        return "corrupt-" + sha
    if repo.spec.get("cut_without_length"):
        return "nolen-" + sha
    if repo.spec.get("relative_location"):
        return "rel-" + sha
    return sha


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Repo:
    def __init__(self, repo_id, spec, root):
        self.id = repo_id
        self.spec = spec
        self.commit = hashlib.sha1(("commit of " + repo_id).encode()).hexdigest()
        self.files = {}
        for f in spec["files"]:
            with open(os.path.join(root, spec["dir"], f), "rb") as fh:
                self.files[f] = fh.read()
        self.files.update(spec.get("synthetic", {}))
        self.files.update(EXTRA)
        self.siblings = sorted(self.files) + spec.get("extra_siblings", [])

    def revision_ok(self, rev):
        return rev in ("main", self.commit) or rev in self.spec.get("tags", [])


class State:
    def __init__(self, root):
        self.repos = {k: Repo(k, v, root) for k, v in REPOS.items()}
        self.blobs = {}  # sha256 -> bytes served by /cdn
        self.cut_done = set()
        self.requests = []
        self.lock = threading.Lock()
        for repo in self.repos.values():
            for name, data in repo.files.items():
                if is_lfs(name):
                    sha = hashlib.sha256(data).hexdigest()
                    served = data
                    if repo.spec.get("corrupt"):
                        served = bytearray(data)
                        served[len(served) // 3] ^= 0xFF
                        served = bytes(served)
                    self.blobs[blob_key(repo, sha)] = served


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeHub/1.0"

    def log_message(self, *args):  # quiet
        pass

    @property
    def state(self):
        return self.server.state

    def record(self):
        with self.state.lock:
            self.state.requests.append({"method": self.command, "path": self.path,
                                        "range": self.headers.get("Range"),
                                        "authorization": self.headers.get("Authorization")})

    def send(self, status, headers=None, body=b"", head=False):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def error(self, status, code, message, head=False):
        body = json.dumps({"error": message}).encode()
        self.send(status, {"X-Error-Code": code, "X-Error-Message": message,
                           "Content-Type": "application/json"}, body, head)

    def do_HEAD(self):
        self.record()
        self.route(head=True)

    def do_GET(self):
        self.record()
        self.route(head=False)

    def route(self, head):
        path = unquote(urlsplit(self.path).path)
        if path == "/_stats":
            with self.state.lock:
                body = json.dumps({"requests": self.state.requests}).encode()
            return self.send(200, {"Content-Type": "application/json"}, body, head)
        if path.startswith("/cdn/"):
            return self.cdn(path[len("/cdn/"):], head)
        parts = path.strip("/").split("/")
        if len(parts) >= 6 and parts[0] == "api" and parts[1] == "models" and parts[4] == "revision":
            return self.api("/".join(parts[2:4]), "/".join(parts[5:]), head)
        if len(parts) >= 5 and parts[2] == "resolve":
            return self.resolve("/".join(parts[:2]), parts[3], "/".join(parts[4:]), head)
        return self.error(404, "RepoNotFound", "Not found", head)

    def check_access(self, repo, head):
        """Returns False (after answering) when the request may not see `repo`."""
        if not repo.spec.get("gated"):
            return True
        auth = self.headers.get("Authorization", "")
        if auth == "Bearer " + GOOD_TOKEN:
            return True
        if auth == "Bearer " + DENIED_TOKEN:
            self.error(403, "GatedRepo", f"Access to model {repo.id} is restricted and you are not "
                       "in the authorized list.", head)
        else:
            self.error(401, "GatedRepo", f"Access to model {repo.id} is restricted. You must have "
                       "access to it and be authenticated to access it. Please log in.", head)
        return False

    def api(self, repo_id, rev, head):
        repo = self.state.repos.get(repo_id)
        if repo is None:
            return self.error(404, "RepoNotFound", f"Repository Not Found for url: {self.path}.", head)
        if not self.check_access(repo, head):
            return None
        if not repo.revision_ok(rev):
            return self.error(404, "RevisionNotFound", f"Invalid rev id: {rev}", head)
        body = json.dumps({"id": repo.id, "modelId": repo.id, "sha": repo.commit, "private": False,
                           "gated": "auto" if repo.spec.get("gated") else False,
                           "siblings": [{"rfilename": s} for s in repo.siblings]}).encode()
        return self.send(200, {"Content-Type": "application/json"}, body, head)

    def resolve(self, repo_id, rev, name, head):
        repo = self.state.repos.get(repo_id)
        if repo is None:
            return self.error(404, "RepoNotFound", "Repository Not Found", head)
        if not self.check_access(repo, head):
            return None
        if not repo.revision_ok(rev):
            return self.error(404, "RevisionNotFound", f"Invalid rev id: {rev}", head)
        if head and repo.spec.get("no_head"):
            return self.send(405, {"Allow": "GET"}, b"", head)
        data = repo.files.get(name)
        if data is None:
            return self.error(404, "EntryNotFound", f"{name} does not exist on \"{rev}\"", head)
        common = {"X-Repo-Commit": repo.commit}
        if is_lfs(name):
            sha = hashlib.sha256(data).hexdigest()
            key = blob_key(repo, sha)
            host = self.headers.get("Host", "127.0.0.1")
            where = "" if repo.spec.get("relative_location") else f"http://{host}"
            common.update({"Location": f"{where}/cdn/{key}?repo={repo.id}",
                           "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(len(data)),
                           "ETag": f'"{git_blob_sha1(b"version lfs pointer " + sha.encode())}"'})
            return self.send(302, common, b"", head)
        etag = git_blob_sha1(data)
        # The Hub sends weak ETags for some small files; bentov must strip W/.
        common["ETag"] = f'W/"{etag}"' if name == "generation_config.json" else f'"{etag}"'
        return self.send(200, common, data, head)

    def cdn(self, key, head):
        data = self.state.blobs.get(key)
        if data is None:
            return self.send(404, {}, b"no such blob", head)
        start = 0
        rng = self.headers.get("Range")
        if rng:
            if not rng.startswith("bytes=") or not rng.endswith("-"):
                return self.send(400, {}, b"only open ranges", head)
            start = int(rng[len("bytes="):-1])
            if start >= len(data):
                return self.send(416, {"Content-Range": f"bytes */{len(data)}"}, b"", head)
        part = data[start:]
        headers = {"ETag": f'"{key}"', "Accept-Ranges": "bytes",
                   "Content-Type": "application/octet-stream"}
        status = 200
        if rng:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        if head:
            if key.startswith("rel-"):
                return self.send(501, {}, b"Unsupported method ('HEAD')", head=True)
            return self.send(status, headers, part, head=True)
        with self.state.lock:
            cut = key not in self.state.cut_done
            self.state.cut_done.add(key)
        if not cut:
            return self.send(status, headers, part)
        # The dropped connection: promise everything, send half, close.
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if not key.startswith("nolen-"):
            self.send_header("Content-Length", str(len(part)))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(part[: len(part) // 2])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True, help="project root (fixture paths are relative to it)")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args.root)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
