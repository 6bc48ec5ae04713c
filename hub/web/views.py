"""The dashboard shell (public HTML and static files; every data call it makes needs the API key)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, render_template, url_for

from hub.api.common import hub
from hub.events import EVENT_TYPES
from hub.store.delivery import DeliveryStatus

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/dashboard")


@bp.get("/")
def index():
    """The hub's home page is the dashboard."""
    return redirect(url_for("web.dashboard"))


@bp.get("/dashboard")
def dashboard():
    """The single-page dashboard; it asks for the API key itself (nothing secret is rendered)."""
    config = hub().config
    statuses = [status.value for status in DeliveryStatus]
    return render_template("dashboard.html", event_types=EVENT_TYPES, delivery_statuses=statuses,
                           sandbox_enabled=config.sandbox, default_engine=config.engine,
                           clustered=hub().node.clustered)  # the Cluster view: PostgreSQL only


@bp.after_request
def security_headers(response: Response) -> Response:
    """Only the hub's own scripts run; media previews may come from the public media URL."""
    media = f"'self' blob: data: {public_origin()}"
    response.headers.setdefault("Content-Security-Policy",
                                f"default-src 'self'; script-src 'self'; style-src 'self'; "
                                f"img-src {media}; media-src {media}; connect-src 'self' ws: wss:; "
                                f"object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def public_origin() -> str:
    """scheme://host[:port] of HUB_PUBLIC_URL, where media files are served."""
    parts = urlsplit(hub().config.public_url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
