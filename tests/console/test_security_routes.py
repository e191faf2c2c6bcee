"""Every route of the console, enumerated from the app (so routes added by any area are covered automatically):
anonymous users are refused, operators are refused where admin is needed, and POSTs need the CSRF token."""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.convertors import FloatConvertor, IntegerConvertor, PathConvertor, UUIDConvertor
from starlette.testclient import TestClient

from console.db import Base
from console.index import refresh_index
from console.takeover import sync_handoffs
from console.web import audited_view, csrf_protect, require_admin
from tests.console import seed
from tests.console.conftest import login_as

PUBLIC = {("GET", "/login"), ("POST", "/login")}  # the only routes an anonymous visitor may use
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def endpoints(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    for route in app.routes:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                yield method, route


def sample_path(route: APIRoute) -> str:
    """The route's path with every parameter filled by a value of its declared type."""
    by_convertor = {
        IntegerConvertor: "1",
        FloatConvertor: "1.5",
        PathConvertor: "sample/file",
        UUIDConvertor: str(uuid.UUID(int=1)),
    }
    by_type = {int: "1", float: "1.5", uuid.UUID: str(uuid.UUID(int=1))}
    declared = {field.name: field.type_ for field in route.dependant.path_params}
    values = {
        name: by_convertor.get(type(convertor)) or by_type.get(declared.get(name), "sample")
        for name, convertor in route.param_convertors.items()
    }
    return route.path_format.format(**values)


def depends_on(route: APIRoute, function: Callable) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if dependant.call is function:
            return True
        pending.extend(dependant.dependencies)
    return False


def protected(app: FastAPI) -> list[tuple[str, APIRoute]]:
    return [(method, route) for method, route in endpoints(app) if (method, route.path) not in PUBLIC]


def is_page(method: str, path: str) -> bool:
    return method == "GET" and not path.startswith("/api/")


def test_the_app_has_the_routes_of_this_area(console_app: FastAPI) -> None:
    paths = {(method, route.path) for method, route in endpoints(console_app)}
    assert {("GET", "/admin/users"), ("GET", "/admin/audit"), ("POST", "/logout")} <= paths
    assert paths >= PUBLIC


def test_anonymous_users_are_refused_everywhere(console_app: FastAPI, client: TestClient) -> None:
    checked = 0
    for method, route in protected(console_app):
        path = sample_path(route)
        response = client.request(method, path)
        if is_page(method, path):
            assert response.status_code == 303, f"{method} {path}: {response.status_code}"
            assert response.headers["location"].startswith("/login?next="), f"{method} {path}"
        else:
            assert response.status_code == 401, f"{method} {path}: {response.status_code}"
        checked += 1
    assert checked >= 6


def test_anonymous_page_redirect_keeps_the_target(client: TestClient) -> None:
    response = client.get("/admin/audit?user=alice&page=2")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fadmin%2Faudit%3Fuser%3Dalice%26page%3D2"


def test_operators_are_refused_on_every_admin_route(console_app: FastAPI, client: TestClient) -> None:
    token = login_as(client, "operator")
    admin_routes = [(method, route) for method, route in endpoints(console_app) if depends_on(route, require_admin)]
    assert len(admin_routes) >= 7
    for method, route in admin_routes:
        path = sample_path(route)
        # With a valid CSRF token, so that only the role can be the reason of the refusal.
        response = client.request(method, path, headers={"X-CSRF-Token": token})
        assert response.status_code == 403, f"{method} {path}: {response.status_code}"
        assert "管理员" in response.text


def test_every_unsafe_route_requires_the_csrf_token(console_app: FastAPI, client: TestClient) -> None:
    unsafe = [(method, route) for method, route in protected(console_app) if method in UNSAFE]
    assert len(unsafe) >= 6
    for method, route in unsafe:
        assert depends_on(route, csrf_protect), f"{method} {route.path} has no csrf_protect dependency"

    token = login_as(client, "admin")
    for method, route in unsafe:
        path = sample_path(route)
        missing = client.request(method, path, data={"anything": "1"})
        assert missing.status_code == 403, f"{method} {path} without token: {missing.status_code}"
        wrong = client.request(method, path, data={"csrf_token": token[:-2] + "xx"})
        assert wrong.status_code == 403, f"{method} {path} with a wrong token: {wrong.status_code}"
        header = client.request(method, path, headers={"X-CSRF-Token": "not-the-token"})
        assert header.status_code == 403, f"{method} {path} with a wrong header: {header.status_code}"
        assert "安全校验未通过" in header.text


def test_a_token_of_another_login_session_is_refused(client: TestClient, console_app: FastAPI) -> None:
    other = login_as(client, "admin")
    mine = login_as(client, "admin")
    assert other != mine
    response = client.post("/admin/users", data={"csrf_token": other, "username": "mallory", "role": "admin"})
    assert response.status_code == 403


def test_csrf_token_is_in_every_form_of_a_page(client: TestClient) -> None:
    token = login_as(client, "admin")
    page = client.get("/admin/users")
    forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", page.text, flags=re.S)
    assert len(forms) >= 4  # logout, new user, and role + password of the one user
    for form in forms:
        assert f'name="csrf_token" value="{token}"' in form


# --- GET never acts: no export, no change, no audit entry a foreign page could cause -------------------------


@pytest.fixture
def something_everywhere(console_app: FastAPI, console_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Conversation 1, handoff 1 and rating 1 exist, so every route with an id has something to show (or to act on)."""
    monkeypatch.setenv("PII_SEAL_KEY", "route-sweep-seal-key")
    rng = random.Random(4)
    seed.seed_via_broker(console_db_url, [seed.handoff(rng, time.time() - 600, "wechat"),
                                          seed.job_fair_rated(rng, time.time() - 300, "rest", "不满意", "太慢")])
    with console_app.state.session_factory() as db:
        refresh_index(db)
        sync_handoffs(db)
        db.commit()


def table_counts(app: FastAPI) -> dict[str, int]:
    with app.state.engine.connect() as connection:
        return {
            table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in Base.metadata.sorted_tables
            if table.name != "console_sessions"  # a GET may drop expired sessions of its own accord
        }


def get_routes(app: FastAPI) -> list[APIRoute]:
    return [route for method, route in protected(app) if method == "GET"]


def test_no_get_route_acts_when_a_foreign_page_sends_the_operator(
    console_app: FastAPI, client: TestClient, something_everywhere: None
) -> None:
    login_as(client, "admin")
    before = table_counts(console_app)
    routes = get_routes(console_app)
    assert len(routes) >= 8
    for route in routes:
        path = sample_path(route)
        response = client.get(path, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
        assert response.status_code < 500, f"GET {path}: {response.status_code}"
        assert "attachment" not in response.headers.get("content-disposition", ""), f"GET {path} exports"
        assert table_counts(console_app) == before, f"GET {path} from another site changed or audited something"


def test_only_guarded_views_audit_a_get(console_app: FastAPI, client: TestClient, something_everywhere: None) -> None:
    """Opening a conversation is audited (and a GET, so links, refresh and back work): those views, and only they,
    refuse requests from other sites (and the session cookie is SameSite=Strict besides)."""
    login_as(client, "admin")
    auditing = []
    for route in get_routes(console_app):
        before = table_counts(console_app)["console_audit_log"]
        response = client.get(sample_path(route), headers={"Sec-Fetch-Site": "same-origin"})
        assert "attachment" not in response.headers.get("content-disposition", ""), route.path
        if table_counts(console_app)["console_audit_log"] != before:
            auditing.append(route.path)
            assert depends_on(route, audited_view), f"GET {route.path} audits without the audited_view guard"
    assert sorted(auditing) == ["/conversations/{conversation_id}", "/ratings/{rating_pk}", "/takeover/{handoff_id}"]
