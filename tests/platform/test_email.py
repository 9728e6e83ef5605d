"""Email backends: .eml files in development, SMTP against a real server on loopback."""

from __future__ import annotations

import email

from mindlinks.platform.email import FileEmailBackend, Mailer, SMTPEmailBackend, build_message
from tests.factories import free_port


async def test_smtp_backend_delivers_to_a_real_server(settings, smtp_server):
    controller, inbox = smtp_server
    smtp_settings = settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": controller.port, "mail_from": "ML <ml@example.com>"})
    mailer = Mailer(smtp_settings)
    assert isinstance(mailer.backend, SMTPEmailBackend)
    await mailer.send(to="ada@example.com", subject="Hello", text="plain body",
                      html="<p>html body</p>")
    assert len(inbox.messages) == 1
    msg = email.message_from_bytes(inbox.messages[0])
    assert msg["To"] == "ada@example.com" and msg["Subject"] == "Hello"
    assert msg["From"] == "ML <ml@example.com>"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode().strip()
             for p in msg.walk() if not p.is_multipart()}
    assert parts == {"text/plain": "plain body", "text/html": "<p>html body</p>"}


async def test_reset_mail_reaches_smtp_server_through_the_api(settings, smtp_server):
    import httpx

    from mindlinks.app import create_app
    from tests.factories import register

    controller, inbox = smtp_server
    application = create_app(settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": controller.port}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            user = await register(c)
            await c.post("/api/auth/password/forgot", json={"email": user["user"]["email"]})
        await application.state.runtime.mailer.drain()
    subjects = [email.message_from_bytes(m)["Subject"] for m in inbox.messages]
    assert sorted(subjects) == ["Confirm your email for Mind-Links", "Reset your Mind-Links password"]


async def test_smtp_failure_is_logged_and_does_not_raise(settings, capsys):
    """Mail goes out after the transaction committed: an unreachable server must not turn the
    response into a 500, and the failure must leave a trace an operator can find."""
    capsys.readouterr()
    mailer = Mailer(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()}))
    await mailer.send(to="a@example.com", subject="Nobody listens", text="t")  # must not raise
    captured = capsys.readouterr()
    # JSON or console rendering, whichever configuration the logger was first used with.
    failures = [line for line in (captured.out + captured.err).splitlines()
                if "email_failed" in line]
    assert len(failures) == 1
    # With the exception's type for the operator, never its message or the subject (either can
    # quote a recipient or a name: docs/architecture.md, Privacy).
    assert "SMTPConnect" in captured.out + captured.err
    assert "Nobody listens" not in captured.out + captured.err


async def test_file_backend_writes_eml(tmp_path):
    backend = FileEmailBackend(tmp_path / "mail")
    await backend.send(build_message(sender="a@example.com", to="b@example.com",
                                     subject="Subj", text="Body"))
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    msg = email.message_from_bytes(files[0].read_bytes())
    assert msg["Subject"] == "Subj" and msg["Message-ID"] and msg["Date"]
