"""Accounts: the first admin, logins that hand out user tokens, password changes."""

from django.contrib.auth import authenticate, get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken


class AccountError(ValueError):
    pass


class AlreadyInitialized(AccountError):
    pass


def is_initialized() -> bool:
    return get_user_model().objects.exists()


def _check_password(password: str, user=None) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise AccountError(" ".join(exc.messages)) from exc


def initialize_first_admin(email: str, password: str):
    """Create the first administrator (a superuser who can also use the Django admin). Refused once done."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise AccountError("user must be a valid email address") from exc
    _check_password(password)
    User = get_user_model()
    with transaction.atomic():
        if User.objects.select_for_update().exists():
            raise AlreadyInitialized("System already initialized")
        return User.objects.create_superuser(username=email, email=email, password=password)


def issue_token(user) -> str:
    return str(AccessToken.for_user(user))


def login(email: str, password: str) -> str | None:
    """A user token for valid credentials, None otherwise."""
    user = authenticate(username=(email or "").strip().lower(), password=password)
    if user is None or not user.is_active:
        return None
    return issue_token(user)


def change_password(user, current_password: str, new_password: str) -> None:
    if not user.check_password(current_password):
        raise AccountError("current_password is wrong")
    _check_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
