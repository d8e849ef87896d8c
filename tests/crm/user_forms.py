"""What the Users page's edit form posts for a user, as the page would fill it in."""


def edit_form(user, **overrides) -> dict:
    """The user's current values, with ``overrides``; a value of None leaves the field out."""
    role = user.groups.values_list("name", flat=True).first() or ""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else None,
        "role": role,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
