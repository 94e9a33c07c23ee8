"""A real LTI 1.3 platform on loopback, for the browser tests (tests/lti.spec.ts).

PyPI's lti1p3platform does the platform's LTI work: it builds and signs the launch messages
(resource link and deep linking, with the grade and roster service claims), checks the tool's
signed client assertions before issuing access tokens, checks those tokens on each service call,
and checks the tool's deep-linking answers against the tool's published keys. The library serves
no HTTP without Django or FastAPI, so this file does, with the standard library: the endpoints an
LMS has (authorization, token, keys, deep-linking return, line items and their scores, course
memberships), an in-memory course, and a few test controls (/test/...) to read what arrived, to
take the score service down for a while ("the LMS is down") and to replay a launch.

Run: python platform.py, with LTI_PORT (this platform) and LTI_TOOL (Stacklab's base URL).
"""

import html
import json
import os
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.exceptions import LtiException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration

PORT = int(os.environ.get("LTI_PORT", "3191"))
TOOL = os.environ.get("LTI_TOOL", "http://127.0.0.1:3131").rstrip("/")
ISSUER = f"http://127.0.0.1:{PORT}"
CLIENT_ID = "stacklab-tool"
DEPLOYMENT = "deployment-1"
COURSE = {"id": "course-101", "title": "Operating systems 101", "label": "OS101"}
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    SCORE_SCOPE,
]
ROSTER_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

# The course's people: (name, role, status).
PEOPLE = {
    "ada": ("Ada Lovelace", "Learner", "Active"),
    "grace": ("Grace Hopper", "Instructor", "Active"),
    "linus": ("Linus Torvalds", "Learner", "Active"),
    "dropped": ("Dee Dropped", "Learner", "Inactive"),
}


def pem_pair() -> t.Tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


PRIVATE, PUBLIC = pem_pair()
# A key of no one Stacklab trusts, for forged launches.
IMPOSTOR, _ = pem_pair()


class Platform(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: t.Any) -> None:
        self._registration = (
            Registration()
            .set_iss(ISSUER)
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT)
            .set_oidc_login_url(f"{TOOL}/lti/login")
            .set_launch_url(f"{TOOL}/lti/launch")
            .set_deeplink_launch_url(f"{TOOL}/lti/launch")
            .set_tool_key_set_url(f"{TOOL}/lti/jwks")
            .set_platform_public_key(PUBLIC)
            .set_platform_private_key(PRIVATE)
        )

    def get_registration_by_params(self, **kwargs: t.Any) -> Registration:
        return self._registration

    def tool_decoded(self, call: t.Callable[[], t.Any]) -> t.Any:
        """Calls `call`, fetching the tool's keys again when it signed with a key not seen yet
        (the library keeps the first set it fetched; a real LMS refetches after a rotation)."""
        try:
            return call()
        except LtiException as e:
            if "public key" not in str(e):
                raise
            self._registration.set_tool_key_set(None)
            return call()


PLATFORM = Platform()


class Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: t.Any) -> None:
        self._lti_message_hint = json.dumps(kwargs)

    def get_redirect(self, url: str) -> str:
        return url


class Launch(LTIAdvantageMessageLaunchAbstract):
    def __init__(self, query: t.Dict[str, str]) -> None:
        self.query = query
        super().__init__(None, PLATFORM)  # type: ignore[arg-type]

    def get_preflight_response(self) -> t.Dict[str, t.Any]:
        return self.query

    def render_launch_form(self, launch_data: t.Dict[str, t.Any], **kwargs: t.Any) -> str:
        return auto_post(launch_data["launch_url"], {"id_token": launch_data["id_token"], "state": launch_data["state"]})


def auto_post(url: str, fields: t.Dict[str, str]) -> str:
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    return (
        f'<!doctype html><html><body><form method="post" action="{html.escape(url)}">{inputs}'
        '<button type="submit">Continue</button></form><script>document.forms[0].submit()</script></body></html>'
    )


class Course:
    """What the LMS keeps: links made by deep linking, line items, scores received."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.links: t.Dict[str, t.Dict[str, t.Any]] = {}
        self.lineitems: t.Dict[str, t.Dict[str, t.Any]] = {}
        self.scores: t.List[t.Dict[str, t.Any]] = []
        # Service calls answered 503 while "down".
        self.refused_scores = 0
        self.down_until = 0.0
        self.last_launch = ""
        self.token_requests = 0
        self.roster_requests = 0


COURSE_STATE = Course()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - the base class's name
        pass

    # --- helpers ---
    def send(self, status: int, body: t.Any, content_type: str = "application/json", headers: t.Optional[t.Dict[str, str]] = None) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def page(self, body: str, status: int = 200) -> None:
        self.send(status, body, "text/html; charset=utf-8")

    def query(self) -> t.Dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}

    def form(self) -> t.Dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(raw).items()}
        return json.loads(raw or "{}")

    def bearer(self, scopes: t.List[str]) -> bool:
        auth = self.headers.get("Authorization", "").split()
        if len(auth) != 2 or auth[0].lower() != "bearer":
            return False
        try:
            return PLATFORM.validate_token(auth[1], scopes)
        except Exception:  # an expired or forged token is simply not valid
            return False

    # --- routes ---
    def do_GET(self) -> None:
        self.guarded(self.get)

    def do_POST(self) -> None:
        self.guarded(self.post)

    def guarded(self, handle: t.Callable[[], None]) -> None:
        """A bug here answers 500 with the reason (for the test's log), not a closed connection."""
        try:
            handle()
        except Exception as e:  # noqa: BLE001 - every failure is reported the same way
            import traceback

            traceback.print_exc()
            self.send(500, {"error": "platform failure", "error_description": repr(e)})

    def get(self) -> None:
        path = urlparse(self.path).path
        if path == "/jwks":
            return self.send(200, PLATFORM.get_jwks() if PLATFORM.get_registration() else {"keys": []})
        if path == "/launch":
            return self.start_launch(self.query())
        if path == "/auth":
            return self.authorize(self.query())
        if path == "/memberships":
            return self.memberships()
        if path.startswith("/lineitems/"):
            return self.lineitem(path.split("/")[2])
        if path == "/test/state":
            with COURSE_STATE.lock:
                return self.send(
                    200,
                    {
                        "links": COURSE_STATE.links,
                        "lineitems": COURSE_STATE.lineitems,
                        "scores": COURSE_STATE.scores,
                        "refused_scores": COURSE_STATE.refused_scores,
                        "token_requests": COURSE_STATE.token_requests,
                        "roster_requests": COURSE_STATE.roster_requests,
                    },
                )
        if path == "/test/replay":
            return self.page(COURSE_STATE.last_launch or "no launch yet", 200 if COURSE_STATE.last_launch else 404)
        return self.send(404, {"error": "not found"})

    def post(self) -> None:
        path = urlparse(self.path).path
        if path == "/token":
            return self.token(self.form())
        if path == "/deep-link/return":
            return self.deep_link_return(self.form())
        if path.startswith("/lineitems/") and path.endswith("/scores"):
            return self.score(path.split("/")[2])
        if path == "/test/down":
            with COURSE_STATE.lock:
                COURSE_STATE.down_until = time.time() + float(self.query().get("seconds", "60"))
            return self.send(200, {"down_until": COURSE_STATE.down_until})
        if path == "/test/up":
            with COURSE_STATE.lock:
                COURSE_STATE.down_until = 0.0
            return self.send(200, {})
        return self.send(404, {"error": "not found"})

    def start_launch(self, q: t.Dict[str, str]) -> None:
        """A person opens a link (or, `deep_link=1`, adds one) in the course: the platform starts
        the third-party login at the tool."""
        user = q.get("user", "ada")
        login = Login(None, PLATFORM)
        login.set_lti_message_hint(
            user=user, link=q.get("link", ""), deep_link=q.get("deep_link", ""), forge=q.get("forge", "")
        )
        self.send_response(302)
        self.send_header("Location", login.initiate_login(f"user-{user}"))
        self.end_headers()

    def authorize(self, q: t.Dict[str, str]) -> None:
        """The authorization endpoint: the tool's authentication request comes back here, and the
        platform answers with the signed launch, posted to the tool."""
        if q.get("redirect_uri") != f"{TOOL}/lti/launch":
            return self.send(400, {"error": "invalid_request", "error_description": "unregistered redirect_uri"})
        hint = json.loads(q.get("lti_message_hint") or "{}")
        user = hint.get("user", "ada")
        if q.get("login_hint") != f"user-{user}" or user not in PEOPLE:
            return self.send(400, {"error": "invalid_request", "error_description": "login_hint does not match"})
        name, role, _ = PEOPLE[user]
        launch = Launch(q)
        launch.set_user_data(f"user-{user}", [MEMBERSHIP + role], full_name=name, email_address=f"{user}@school.test")
        launch.set_launch_context_claim(
            COURSE["id"],
            context_types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
            context_title=COURSE["title"],
            context_label=COURSE["label"],
        )
        launch.set_nrps(f"{ISSUER}/memberships")
        if hint.get("deep_link"):
            launch.set_dl(f"{ISSUER}/deep-link/return", title="Add a lab", accept_types={"ltiResourceLink"}, extra_data={"course": COURSE["id"]})
        else:
            link_id = hint.get("link") or "unlinked"
            with COURSE_STATE.lock:
                link = COURSE_STATE.links.get(link_id, {})
            launch.set_resource_link_claim(link_id, title=link.get("title", "A link"))
            if link.get("custom"):
                launch.set_custom_parameters_claim(link["custom"])
            launch.set_ags(
                f"{ISSUER}/lineitems",
                f"{ISSUER}/lineitems/{link['lineitem']}" if link.get("lineitem") else None,
            )
        if hint.get("forge") == "deployment":
            launch.set_extra_claims({"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "deployment-unknown"})
        form = launch.lti_launch()
        if hint.get("forge") == "signature":
            form = forged(form)
        COURSE_STATE.last_launch = form
        self.page(form)

    def down(self) -> bool:
        """While "down", the LMS's services answer 503, as a server in maintenance does."""
        with COURSE_STATE.lock:
            if time.time() < COURSE_STATE.down_until:
                COURSE_STATE.refused_scores += 1
                self.send(503, "down for maintenance", "text/plain")
                return True
        return False

    def token(self, form: t.Dict[str, str]) -> None:
        if self.down():
            return
        with COURSE_STATE.lock:
            COURSE_STATE.token_requests += 1
        try:
            answer = PLATFORM.tool_decoded(lambda: PLATFORM.get_access_token(form))
        except Exception as e:
            return self.send(400, {"error": "invalid_client", "error_description": str(e)})
        self.send(200, answer)

    def deep_link_return(self, form: t.Dict[str, str]) -> None:
        try:
            items = PLATFORM.tool_decoded(lambda: PLATFORM.validate_deeplinking_resp(form))
            claims = jwt.decode(form["JWT"], options={"verify_signature": False})
        except Exception as e:
            return self.page(f"<p>Refused: {html.escape(str(e))}</p>", 400)
        dl = "https://purl.imsglobal.org/spec/lti-dl/claim/"
        checks = [
            (ISSUER in (claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]), "aud"),
            (claims.get("iss") == CLIENT_ID, "iss"),
            (claims.get("https://purl.imsglobal.org/spec/lti/claim/deployment_id") == DEPLOYMENT, "deployment_id"),
            (claims.get(dl + "data") == {"course": COURSE["id"]}, "data"),
            (bool(claims.get("nonce")), "nonce"),
        ]
        wrong = [name for ok, name in checks if not ok]
        if wrong:
            return self.page(f"<p>Refused: wrong {', '.join(wrong)}</p>", 400)
        made = []
        with COURSE_STATE.lock:
            for item in items:
                link_id = f"link-{len(COURSE_STATE.links) + 1}"
                line = item.get("lineItem")
                lineitem_id = None
                if line:
                    lineitem_id = str(len(COURSE_STATE.lineitems) + 1)
                    COURSE_STATE.lineitems[lineitem_id] = {
                        "id": f"{ISSUER}/lineitems/{lineitem_id}",
                        "scoreMaximum": line["scoreMaximum"],
                        "label": line.get("label"),
                        "resourceId": line.get("resourceId"),
                        "tag": line.get("tag"),
                        "resourceLinkId": link_id,
                    }
                COURSE_STATE.links[link_id] = {
                    "title": item.get("title"),
                    "url": item.get("url"),
                    "custom": item.get("custom", {}),
                    "lineitem": lineitem_id,
                }
                made.append(f'<li data-link="{link_id}">{html.escape(item.get("title") or "")}</li>')
        said = html.escape(claims.get(dl + "msg", ""))
        self.page(f"<h1>Links added</h1><p>{said}</p><ul>{''.join(made)}</ul>")

    def lineitem(self, lineitem_id: str) -> None:
        if not self.bearer(LINEITEM_SCOPES):
            return self.send(401, {"error": "unauthorized"})
        item = COURSE_STATE.lineitems.get(lineitem_id)
        self.send(200 if item else 404, item or {"error": "no such line item"}, "application/vnd.ims.lis.v2.lineitem+json")

    def score(self, lineitem_id: str) -> None:
        body = self.form()
        if self.down():
            return
        if not self.bearer([SCORE_SCOPE]):
            return self.send(401, {"error": "unauthorized"})
        if self.headers.get("Content-Type") != "application/vnd.ims.lis.v1.score+json":
            return self.send(415, {"error": "a score is application/vnd.ims.lis.v1.score+json"})
        with COURSE_STATE.lock:
            item = COURSE_STATE.lineitems.get(lineitem_id)
            if not item:
                return self.send(404, {"error": "no such line item"})
            last = [s for s in COURSE_STATE.scores if s["lineitem"] == lineitem_id and s["userId"] == body.get("userId")]
            if last and last[-1]["timestamp"] >= body.get("timestamp", ""):
                return self.send(409, {"error": "a score with an earlier timestamp than the last one"})
            COURSE_STATE.scores.append({"lineitem": lineitem_id, **body})
        self.send(200, {})

    def memberships(self) -> None:
        with COURSE_STATE.lock:
            COURSE_STATE.roster_requests += 1
        if not self.bearer([ROSTER_SCOPE]):
            return self.send(401, {"error": "unauthorized"})
        members = [
            {"user_id": f"user-{u}", "name": n, "email": f"{u}@school.test", "status": s, "roles": [MEMBERSHIP + r]}
            for u, (n, r, s) in PEOPLE.items()
        ]
        # Two pages, to follow the Link header.
        page = int(self.query().get("page", "1"))
        headers = {"Link": f'<{ISSUER}/memberships?page=2>; rel="next"'} if page == 1 else {}
        chunk = members[:2] if page == 1 else members[2:]
        self.send(
            200,
            {"id": f"{ISSUER}/memberships", "context": COURSE, "members": chunk},
            "application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
            headers,
        )


def forged(form: str) -> str:
    """The same launch, its token signed again with a key nobody published (under the platform's
    own key id)."""
    start = form.index('name="id_token" value="') + len('name="id_token" value="')
    end = form.index('"', start)
    token = html.unescape(form[start:end])
    claims = jwt.decode(token, options={"verify_signature": False})
    header = jwt.get_unverified_header(token)
    again = jwt.encode(claims, IMPOSTOR, algorithm="RS256", headers={"kid": header.get("kid")})
    return form[:start] + html.escape(again) + form[end:]


if __name__ == "__main__":
    PLATFORM.get_registration()
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print(f"LTI platform {ISSUER} for the tool at {TOOL}", flush=True)
    server.serve_forever()
