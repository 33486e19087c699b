"""Signing in and out, as organisers and staff do."""
from qmevents import create_app
from qmevents.extensions import db
from qmevents.models import ensure_districts

from .conftest import PASSWORD, csrf_from, login, submit


def test_an_organiser_signs_in_and_lands_on_their_events(client, factory):
    _, email = factory.user("organiser")
    response = login(client, email)
    assert response.headers["Location"].endswith("/organiser/")


def test_a_wrong_password_is_refused_and_the_email_is_kept(client, factory):
    _, email = factory.user("organiser")
    response = submit(client, "/login?lang=en", {"email": email, "password": "wrong-password"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Wrong e-mail or password." in html
    assert f'value="{email}"' in html
    assert client.get("/organiser/").status_code == 401  # not signed in: the sign-in form


def test_an_unknown_email_reads_like_a_wrong_password(client):
    response = submit(client, "/login?lang=en", {"email": "nobody@example.cn", "password": "x" * 12})
    assert response.status_code == 400
    assert "Wrong e-mail or password." in response.get_data(as_text=True)


def test_sign_in_returns_to_a_page_on_this_site_only(client, factory):
    _, email = factory.user("organiser")
    html = client.get("/login?next=https://evil.example/steal").get_data(as_text=True)
    response = client.post("/login", data={"csrf_token": csrf_from(html), "email": email,
                                           "password": PASSWORD, "next": "https://evil.example/"})
    assert response.headers["Location"].endswith("/organiser/")


def test_sign_in_starts_a_fresh_session(client, factory):
    _, email = factory.user("organiser")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")


def test_sign_out_needs_the_form_token(client, factory):
    _, email = factory.user("organiser")
    login(client, email)
    assert client.post("/logout").status_code == 400
    response = submit(client, "/logout", {}, page="/organiser/")
    assert response.status_code == 302
    assert client.get("/organiser/").status_code == 401  # not signed in: the sign-in form


def test_a_form_without_its_token_is_refused_politely(client):
    response = client.post("/login?lang=en", data={"email": "a@example.cn", "password": "x"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_repeated_sign_in_attempts_are_throttled(tmp_path, monkeypatch, postgres_url):
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "throttle"))
    config = {"TESTING": True, "SECRET_KEY": "t", "RATELIMIT_ENABLED": True,
              "LOGIN_RATE_LIMIT": "3 per minute", "PASSWORD_TIME_COST": 1,
              "PASSWORD_MEMORY_COST": 64}
    if postgres_url:
        config["SQLALCHEMY_DATABASE_URI"] = postgres_url
    app = create_app(config)
    with app.app_context():
        db.create_all()
        ensure_districts()
    client = app.test_client()
    codes = [submit(client, "/login", {"email": "a@example.cn", "password": "guess" * 3}).status_code
             for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    with app.app_context():
        db.engine.dispose()
