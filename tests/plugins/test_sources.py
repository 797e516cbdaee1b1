"""Downloads: progress, the size cap (announced or not), timeouts, HTTP errors, redirects, egress limits."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from plugins import sources


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        try:
            self.respond()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on purpose (size cap, timeout)

    def respond(self):
        if self.path == "/ok":
            body = b"x" * 200_000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/unannounced":
            # No Content-Length: the body ends when the connection closes; the cap must still apply.
            self.send_response(200)
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"y" * 10_000)
            self.close_connection = True
        elif self.path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"z" * 10)
            self.wfile.flush()
            time.sleep(3)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/ok")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_reports_progress_and_writes_the_file(server, tmp_path):
    seen = []
    size = sources.download(f"{server}/redirect", tmp_path / "f", max_bytes=10**6, timeout=5,
                            on_progress=lambda current, total: seen.append((current, total)))
    assert size == 200_000 == (tmp_path / "f").stat().st_size
    assert seen[0] == (0, 200_000) and seen[-1] == (200_000, 200_000)
    assert [c for c, _ in seen] == sorted(c for c, _ in seen)


@pytest.mark.parametrize("path", ["/ok", "/unannounced"])
def test_download_above_the_cap_is_refused(server, tmp_path, path):
    with pytest.raises(sources.SourceError, match="too large"):
        sources.download(f"{server}{path}", tmp_path / "f", max_bytes=100_000, timeout=5)


def test_a_stalled_download_times_out(server, tmp_path):
    started = time.monotonic()
    with pytest.raises(sources.SourceError, match="timed out"):
        sources.download(f"{server}/stall", tmp_path / "f", max_bytes=10**6, timeout=0.5)
    assert time.monotonic() - started < 3


def test_http_errors_and_unreachable_hosts_are_reported(server, tmp_path):
    with pytest.raises(sources.SourceError, match="HTTP 404"):
        sources.download(f"{server}/missing", tmp_path / "f", timeout=5)
    with pytest.raises(sources.SourceError, match="Download failed"):
        sources.download("http://127.0.0.1:1/x", tmp_path / "f", timeout=2)


def test_egress_limits_apply_to_downloads(server, tmp_path, settings):
    settings.EGRESS_ALLOWED_NETWORKS = "10.0.0.0/8"
    with pytest.raises(sources.SourceError, match="not allowed"):
        sources.download(f"{server}/ok", tmp_path / "f", timeout=5)
    assert not (tmp_path / "f").exists()


def test_github_asset_url_must_be_on_a_github_host(settings):
    assert sources.check_github_asset_url("o", "r", "https://api.github.com/repos/o/r/releases/assets/1")
    for url in ("ftp://github.com/x", "https://example.com/x.lbpkg", "file:///etc/passwd"):
        with pytest.raises(sources.SourceError):
            sources.check_github_asset_url("o", "r", url)


def test_a_trickling_download_hits_the_overall_deadline(tmp_path, settings):
    from tests.fake_http import serving

    from .conftest import FakeUpstream, build_package

    fake = FakeUpstream()
    with serving(fake.server):
        fake.add_marketplace("a", "b", "1", build_package(tmp_path, padding=20_000), slow=True)  # 1 KiB / 0.2 s
        settings.PLUGIN_DOWNLOAD_DEADLINE = 1
        with pytest.raises(sources.SourceError, match="longer than 1s"):
            sources.download(f"{fake.url}/api/v1/marketplace/plugins/download/a/b/1", tmp_path / "f", timeout=5)
