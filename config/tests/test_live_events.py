"""Live: a production app server (gunicorn, DEBUG off, LOG_FORMAT's production default) answers
with the client's X-Request-ID, writes it in its JSON log line and in the security event; a
forged id is replaced."""

import json

from config.tests.servers import call, live, register_and_login

pytestmark = live


def test_the_request_id_is_in_the_response_the_json_log_line_and_the_event(live_servers):
    with live_servers.deployment("events", app_servers=1) as deployment:
        app = deployment.app_servers[0]
        email, _ = register_and_login(app.port)
        reply = call(
            app.port,
            "POST",
            "/api/v1/auth/token/",
            {"email": email, "password": "not-the-password"},
            headers={"X-Request-ID": "live-trace-0042"},
        )
        assert reply.status == 401
        assert reply.headers["x-request-id"] == "live-trace-0042"
        lines = [json.loads(line) for line in app.log_text().splitlines() if line.startswith("{")]
        mine = [line for line in lines if line.get("request_id") == "live-trace-0042"]
        assert mine and all({"time", "level", "logger", "message"} <= set(line) for line in mine)
        rows = deployment.query(
            "SELECT type FROM audit_securityevent WHERE request_id = %s", ["live-trace-0042"]
        )
        assert rows == [("login_failed",)]
        # A forged id is replaced: it never reaches the log.
        forged = call(app.port, "GET", "/healthz", headers={"X-Request-ID": "<script>"})
        assert len(forged.headers["x-request-id"]) == 36
        assert "<script>" not in app.log_text()
