from django.conf import settings


def navigation(request):
    """Values every page's header needs; no queries here (it runs on every page)."""
    return {"LANGUAGES": settings.LANGUAGES, "DEBUG": settings.DEBUG}
