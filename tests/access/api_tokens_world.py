"""The API token the URL walk opens and revokes (owned by the manager, a Staff token)."""

from api import tokens


def extend(world) -> None:
    world.api_token, _secret = tokens.create_token(
        name="Walk", owner=world.manager_user, role="Staff", by=world.admin_user
    )
