from qmevents.models import District


def test_the_sixteen_districts_are_reference_data(app):
    with app.app_context():
        from qmevents.extensions import db

        assert db.session.query(District).count() == 16
