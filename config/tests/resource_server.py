"""Another service of Roster's users: it trusts Roster's tokens through the JWKS alone (no secret).

    JWKS_URL=http://roster/.well-known/jwks.json ISSUER=... AUDIENCE=... PORT=8001 \
        python -m config.tests.resource_server

GET anything with `Authorization: Bearer <access token>`: 200 `{"user_id": ...}` or 401.
"""

import json
import os
from wsgiref.simple_server import WSGIRequestHandler, make_server

import jwt

jwks = jwt.PyJWKClient(
    os.environ["JWKS_URL"], lifespan=float(os.environ.get("JWKS_LIFESPAN", "300"))
)


def application(environ, start_response):
    token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
    try:
        claims = jwt.decode(
            token,
            jwks.get_signing_key_from_jwt(token).key,
            algorithms=["ES256", "EdDSA"],
            audience=os.environ["AUDIENCE"],
            issuer=os.environ["ISSUER"],
            options={"require": ["exp", "iss", "aud"]},
        )
        status, body = (
            "200 OK",
            {"user_id": claims["user_id"], "kid": jwt.get_unverified_header(token)["kid"]},
        )
    except (jwt.PyJWTError, KeyError) as error:
        status, body = "401 Unauthorized", {"error": type(error).__name__}
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


if __name__ == "__main__":
    make_server(
        "127.0.0.1", int(os.environ["PORT"]), application, handler_class=QuietHandler
    ).serve_forever()
