"""The /admin page: sign in with the admin token, then see what people ask and what did not help.

Signing in sets Flask's signed session cookie (HttpOnly, SameSite=Strict), signed with
QA_SECRET_KEY or, when that is empty, a random key made once and kept in the instance folder so
that every worker and restart shares it. Each form carries a CSRF token kept in the session.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request, session

from qa_service.store.store import utcnow
from qa_service.web.errors import APIError, NotFound

bp = Blueprint("admin_page", __name__, url_prefix="/admin")
KEY_FILE = "secret_key"
WEEKS, TOP, LISTED = 8, 10, 50


def secret_key(instance_dir: Path) -> str:
    """Return the key kept in the instance folder, creating it once (safely, when workers race)."""
    path = instance_dir / KEY_FILE
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        draft = instance_dir / f".{KEY_FILE}.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)  # fails if another worker got there first: its key is kept
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def init_app(app: Flask) -> None:
    """Register the page and configure the session cookie it signs in with."""
    app.register_blueprint(bp)
    if app.config.get("ADMIN_TOKEN") and not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(Path(str(app.config["INSTANCE_PATH"])))
    app.config.update(SESSION_COOKIE_NAME="qa_admin", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Strict", PERMANENT_SESSION_LIFETIME=timedelta(hours=8))


def _token() -> str:
    token = str(current_app.config.get("ADMIN_TOKEN") or "")
    if not token:
        raise NotFound(f"no page at {request.path}")
    return token


def _badge(token: str) -> str:
    # What the session holds: proof of the token, not the token; a new token signs everyone out.
    return hmac.new(str(current_app.secret_key).encode(), token.encode(), hashlib.sha256).hexdigest()


def _csrf() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def _check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent.encode(), _csrf().encode()):
        raise APIError("The form has expired or did not come from this site; reload the page and try again.",
                       400, "Form expired", "csrf")


def _page(html: str, status: int = 200) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
def dashboard() -> Response:
    """Show the sign-in form, or (signed in) unanswered questions, unhelpful answers and trends."""
    token = _token()
    if not hmac.compare_digest(str(session.get("admin", "")), _badge(token)):
        return _page(render_template("admin_signin.html", csrf=_csrf(), failed=False))
    store = current_app.extensions["qa"].store
    now = utcnow()
    weeks = [(now - timedelta(weeks=WEEKS - i)).date() for i in range(WEEKS)]
    total, popular = store.trends(weeks=WEEKS, top=TOP)
    return _page(render_template(
        "admin.html", csrf=_csrf(), unanswered=store.questions(found=False, limit=LISTED),
        unhelpful=store.feedback(limit=LISTED, helpful=False), weeks=weeks, total=total, popular=popular,
        busiest=max(total.weeks + [1]), log_questions=store.log_questions))


@bp.post("/sign-in")
def sign_in() -> Response:
    """Check the token from the form; on success keep a signed session and go to the page."""
    token = _token()
    _check_csrf()
    given = request.form.get("token", "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        return _page(render_template("admin_signin.html", csrf=_csrf(), failed=True), 401)
    session.clear()
    session.permanent = True
    session["admin"] = _badge(token)
    session["csrf"] = secrets.token_urlsafe(32)  # a new token once signed in
    return redirect("/admin", 303)  # type: ignore[return-value]


@bp.post("/sign-out")
def sign_out() -> Response:
    """Forget the session."""
    _token()
    _check_csrf()
    session.clear()
    return redirect("/admin", 303)  # type: ignore[return-value]
