from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from ..services.accounts import MAX_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail.")),
                                                 Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                         Length(max=MAX_PASSWORD_LENGTH)])
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    """What makes a new password acceptable is services.accounts.password_problem's rule; the
    form only checks that something was typed, and the same thing twice."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")),
                    Length(max=MAX_PASSWORD_LENGTH)])
    password = PasswordField(_l("New password"),
                             validators=[DataRequired(_l("Enter a new password."))])
    password_again = PasswordField(
        _l("New password again"),
        validators=[DataRequired(_l("Enter the new password a second time.")),
                    EqualTo("password", _l("The two new passwords are not the same."))])

