"""Every malformed upload of tests/upload_corpus.py, one after another in one Chromium session, into
the predictive ViT page's uploader: each gets a clear message within seconds (the uploader's own,
for a file it does not take; the page's error, naming the file, for one the reader refuses) or is
shown when it is a real video, never an exception (not even Streamlit's redacted one, which the
server's showErrorDetails = "none" would draw) nor a traceback in the server's log; the server stays
healthy and the page reruns."""

from __future__ import annotations

import re
import time
import urllib.request

from seqviz.vit import video
from tests.browser.conftest import ARTIFACTS, screenshot, wait_until_idle
from tests.browser.test_pages import assert_no_exception
from tests.upload_corpus import CORPUS, write_corpus

SECONDS = 20          # from choosing the file to the video on screen, the page's run included
REFUSED_SECONDS = 10  # ... and to the message refusing it
REDACTED = "This app has encountered an error"
MIN_FRAMES = 4        # the page's default model reads 3 frames and predicts the 4th


def healthy(server_url: str) -> bool:
    with urllib.request.urlopen(f"{server_url}/_stcore/health", timeout=5) as response:
        return response.status == 200


def expected_text(upload, size: int) -> tuple[str, str]:
    """(where, pattern): the uploader's own refusal, the page's error, or the video shown."""
    if not upload.extension_allowed:
        return "uploader", "files are not allowed"
    if size > video.MAX_UPLOAD_BYTES:
        return "uploader", r"must be 20(\.0)?MB or smaller"
    if upload.frames is not None and upload.frames >= MIN_FRAMES:
        return "shown", re.escape(f"upload {upload.name}")
    pattern = upload.refused or rf"has {upload.frames} frame\(s\); at least 2 are needed"
    return "error", pattern


def test_every_malformed_upload_gets_a_clear_message_and_the_server_stays_up(server_url, page, tmp_path):
    files = write_corpus(tmp_path)
    expected = {u.name: expected_text(u, files[u.name].stat().st_size) for u in CORPUS}
    log = ARTIFACTS / "server.log"
    logged = log.stat().st_size if log.exists() else 0
    page.goto(f"{server_url}/predictive_vit?vit_source=Upload")
    wait_until_idle(page)
    uploader = page.locator("[data-testid=stFileUploader]")
    took = {}
    for upload in CORPUS:
        where, pattern = expected[upload.name]
        start = time.monotonic()
        uploader.locator("input[type=file]").set_input_files(str(files[upload.name]))
        if where == "uploader":                 # refused in the browser: nothing reaches the server
            uploader.filter(has_text=re.compile(pattern)).wait_for(timeout=SECONDS * 1000)
        elif where == "error":
            page.locator("[data-testid=stAlert]").filter(has_text="Cannot use").filter(
                has_text=upload.name).wait_for(timeout=SECONDS * 1000)
        else:
            page.wait_for_function(f"document.body.innerText.includes({f'upload {upload.name}'!r})",
                                   timeout=SECONDS * 1000)
        wait_until_idle(page)
        took[upload.name] = round(time.monotonic() - start, 1)
        assert_no_exception(page)
        assert REDACTED not in page.inner_text("body")
        errors = page.locator("[data-testid=stAlert]").filter(has_text="Cannot use")
        if where == "error":
            (message,) = errors.all_inner_texts()
            assert re.search(pattern, message), (upload.name, message)
            assert "Traceback" not in message and "/tmp" not in message
        elif where == "shown":
            assert errors.count() == 0, errors.all_inner_texts()
        else:
            assert re.search(pattern, uploader.inner_text()), uploader.inner_text()
        assert healthy(server_url), upload.name
    assert max(took.values()) < SECONDS, took
    assert all(took[name] < REFUSED_SECONDS for name, (where, _) in expected.items() if where != "shown"), took
    screenshot(page, "bad_uploads_last")
    # The page still reruns: leave the upload for the synthetic game and come back to it.
    for source in ("Synthetic game", "Upload"):
        page.get_by_role("radiogroup").filter(has_text="Synthetic game").get_by_text(source, exact=True).click()
        wait_until_idle(page)
        assert_no_exception(page)
    last_good = [name for name, (where, _) in expected.items() if where == "shown"][-1]
    assert f"upload {last_good}" in page.inner_text("body")
    assert healthy(server_url)
    if log.exists():
        assert b"Traceback" not in log.read_bytes()[logged:]        # what the server logged meanwhile
