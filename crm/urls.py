from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from . import views
from .permissions import logged_in, public

urlpatterns = [
    path("", include("customers.urls")),
    path("closures/", include("closures.urls")),
    path("service/", include("service.urls")),
    path("followups/", include("followups.urls")),
    path("insights/", include("insights.urls")),
    path("privacy/", include("privacy.urls")),
    path("analytics/", include("analytics.urls")),
    path("users/", include("crm.user_urls")),
    path("jobs/", include("crm.job_urls")),
    path("api/v1/", include("api.urls")),
    path("integration/", include("api.page_urls")),
    path("accounts/login/", public(auth_views.LoginView.as_view(redirect_authenticated_user=True)), name="login"),
    path("accounts/logout/", logged_in(auth_views.LogoutView.as_view()), name="logout"),
    path(
        "accounts/password/",
        logged_in(auth_views.PasswordChangeView.as_view(success_url="/accounts/password/done/")),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        logged_in(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    # The one-time link a user gets by email (the Users page's "Send a password-reset link"):
    # opened logged out, so public; the token is the check (django.contrib.auth.tokens).
    path(
        "accounts/reset/<uidb64>/<token>/",
        public(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/", public(auth_views.PasswordResetCompleteView.as_view()), name="password_reset_complete"
    ),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("inbox/", views.inbox_page, name="inbox"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
