"""Pages named in alerts and status open for their reader (issue 47): under the base URL an
operator serves the data root at, when one is set; the local path otherwise."""

from __future__ import annotations

from fullsite.layout import Layout
from orchestration.alerts import Alert, shown_path, tell
from tests.servers import SmtpServer, WebhookServer


def _alert(layout: Layout) -> Alert:
    page = layout.data_docs / "2024-08-02-20240803T010203" / "index.html"
    return Alert(
        key="failed/x",
        ingest_date="2024-08-02",
        status="failed",
        stage="raw",
        summary="the night 2024-08-02 failed",
        findings=["a finding"],
        data_docs=str(page),
    )


def test_alerts_name_pages_under_the_operators_base_url(tmp_path, monkeypatch):
    layout = Layout(tmp_path / "root [1]")
    with SmtpServer() as smtp, WebhookServer() as hook:
        monkeypatch.setenv("FULLSITE_ALERT_SMTP", smtp.address)
        monkeypatch.setenv("FULLSITE_ALERT_EMAIL_FROM", "fullsite@example.test")
        monkeypatch.setenv("FULLSITE_ALERT_EMAIL_TO", "ops@example.test")
        monkeypatch.setenv("FULLSITE_ALERT_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("FULLSITE_DOCS_URL", "https://fullsite.example.test/demo/")
        assert tell(layout, _alert(layout)) == {"email": "sent", "webhook": "sent"}
    link = "https://fullsite.example.test/demo/data_docs/2024-08-02-20240803T010203/index.html"
    assert hook.bodies[0]["data_docs"] == link
    assert f"Data docs: {link}" in smtp.messages[0].get_content()


def test_without_a_base_url_the_path_is_kept(tmp_path):
    layout = Layout(tmp_path)
    alert = _alert(layout)
    assert shown_path(layout, alert.data_docs, None) == alert.data_docs
    outside = "/elsewhere/page.html"
    assert shown_path(layout, outside, "https://x.test") == outside  # not the data root's: as it is
    assert (
        shown_path(layout, str(layout.root / "a b" / "c.html"), "https://x.test/")
        == "https://x.test/a%20b/c.html"
    )
