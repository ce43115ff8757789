from django.urls import path, re_path

from portal import views

app_name = "portal"

# Ids: 1–18 digits, so a huge number is a 404 rather than a database range error.
TICKET = r"^tickets/(?P<pk>[0-9]{1,18})/"

urlpatterns = [
    path("", views.TicketListView.as_view(), name="tickets"),
    re_path(TICKET + r"$", views.TicketDetailView.as_view(), name="ticket"),
    re_path(TICKET + r"(?P<slug>[a-z-]{1,40})/$", views.TicketActionView.as_view(), name="act"),
    path("submit/", views.SubmitChooseView.as_view(), name="submit"),
    path("submit/<slug:kind>/", views.SubmitView.as_view(), name="submit_kind"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
